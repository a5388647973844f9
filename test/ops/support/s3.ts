import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { S3Settings } from "../../../ops/backup/s3-store.ts";

const CHILD = join(import.meta.dirname, "s3rver-child.ts");

async function launch(directory: string, port: number, bucket: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--openssl-legacy-provider", CHILD, directory, String(port), bucket], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("s3rver did not start within 20 s")), 20_000);
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}`)));
    createInterface({ input: child.stdout! }).once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await gone;
}

/** A private S3 server on a loopback port, with one bucket; `stop` then `restart` simulates an outage. */
export async function startS3(bucket = "backups") {
  const directory = await mkdtemp(join(tmpdir(), "ops-s3-"));
  let { child, port } = await launch(directory, 0, bucket);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    bucket,
    endpoint,
    settings(extra: Partial<S3Settings> = {}): S3Settings {
      return {
        bucket,
        prefix: "db/",
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
        checksum: "when_supported",
        partSizeBytes: 5 * 1024 * 1024,
        queueSize: 2,
        timeoutMs: 10_000,
        ...extra,
      };
    },
    stop: () => terminate(child),
    async restart() {
      ({ child, port } = await launch(directory, port, bucket));
    },
    async destroy() {
      await terminate(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
