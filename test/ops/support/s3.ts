import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import type { S3Settings } from "../../../ops/backup/s3-store.ts";

/** A private S3 server on a loopback port, with one bucket; `stop` then `restart` simulates an outage. */
export async function startS3(bucket = "backups") {
  const directory = await mkdtemp(join(tmpdir(), "ops-s3-"));
  let server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = (await server.run()) as { port: number };
  return {
    bucket,
    endpoint: `http://127.0.0.1:${port}`,
    settings(extra: Partial<S3Settings> = {}): S3Settings {
      return {
        bucket,
        prefix: "db/",
        endpoint: `http://127.0.0.1:${port}`,
        region: "us-east-1",
        forcePathStyle: true,
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
        checksum: "when_supported",
        partSizeBytes: 5 * 1024 * 1024,
        queueSize: 2,
        ...extra,
      };
    },
    stop: () => server.close(),
    async restart() {
      server = new S3rver({ address: "127.0.0.1", port, directory, silent: true });
      await server.run();
    },
    async destroy() {
      await server.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}
