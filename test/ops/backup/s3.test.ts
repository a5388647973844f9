import { createHash, randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBackupConfig } from "../../../ops/backup/config.ts";
import { pruneS3 } from "../../../ops/backup/prune.ts";
import { runBackup } from "../../../ops/backup/run.ts";
import type { S3Store } from "../../../ops/backup/s3-store.ts";
import { createS3Store } from "../../../ops/backup/s3-store.ts";
import { createLogger } from "../../../infra/logger.ts";
import { artefactName, parseManifest } from "../../../ops/shared/manifest.ts";
import { tempDir } from "../support/files.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { createScratchDb, pgBin, seed } from "../support/postgres.ts";
import { startS3 } from "../support/s3.ts";

const log = createLogger("test-backup-s3", "silent");
let db: ScratchDb;
let s3: Awaited<ReturnType<typeof startS3>>;
const cleanups: (() => Promise<unknown>)[] = [];

function rawClient() {
  return new S3Client({
    region: "us-east-1",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
}

function store(extra = {}): S3Store {
  const st = createS3Store(s3.settings(extra));
  cleanups.push(async () => st.destroy());
  return st;
}

async function config(prefix: string) {
  const dir = await tempDir("backup-s3");
  cleanups.push(dir.remove);
  return loadBackupConfig({
    DATABASE_URL: db.url,
    BACKUP_DIR: dir.path,
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    BACKUP_S3_BUCKET: s3.bucket,
    BACKUP_S3_PREFIX: prefix,
  });
}

beforeAll(async () => {
  db = await createScratchDb("ops_backup_s3");
  cleanups.push(db.drop);
  await seed(db.url, 50, 500);
  s3 = await startS3();
  cleanups.push(s3.destroy);
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("backups to S3", () => {
  it.each(["when_supported", "when_required"] as const)(
    "uploads the file and its manifest under the prefix (checksum mode %s)",
    async (checksum) => {
      const cfg = await config(`${checksum}/`);
      const outcome = await runBackup({ config: cfg, log, s3: store({ prefix: `${checksum}/`, checksum }) }, "manual");
      expect(outcome.status).toBe("ok");
      expect(outcome.s3!.uploaded).toEqual([outcome.artefact!.file]);
      const keys = await store({ prefix: `${checksum}/` }).listKeys();
      const file = outcome.artefact!.file;
      expect([...keys.keys()].sort()).toEqual([`${checksum}/${file}`, `${checksum}/${file}.manifest.json`]);
      expect(keys.get(`${checksum}/${file}`)).toBe(outcome.artefact!.sizeBytes);
      const client = rawClient();
      const body = await client.send(
        new GetObjectCommand({ Bucket: s3.bucket, Key: `${checksum}/${file}.manifest.json` }),
      );
      const manifest = parseManifest(await body.Body!.transformToString())!;
      client.destroy();
      expect(manifest.sha256).toBe(outcome.artefact!.sha256);
    },
  );

  it.each(["when_supported", "when_required"] as const)(
    "a file of several parts is uploaded part by part from the file, byte for byte (checksum mode %s)",
    async (checksum) => {
      const dir = await tempDir("backup-s3-parts");
      cleanups.push(dir.remove);
      // 2.4 parts of 5 MiB: two full parts and a short last one, with two uploaders.
      const data = randomBytes(12 << 20);
      const name = artefactName("parts", new Date(), "custom");
      await writeFile(join(dir.path, name), data);
      const st = store({ prefix: "parts/", checksum, partSizeBytes: 5 << 20, queueSize: 2 });
      await st.putFile(join(dir.path, name), name, data.length);
      const client = rawClient();
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `parts/${name}` }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      client.destroy();
      expect(body.length).toBe(data.length);
      expect(createHash("sha256").update(body).digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    },
  );

  it("S3 down: the local backup is kept, the failure reported, and the next run uploads what is missing", async () => {
    const cfg = await config("outage/");
    const outage = store({ prefix: "outage/" });
    await s3.stop();
    let first;
    try {
      first = await runBackup({ config: cfg, log, s3: outage }, "manual");
    } finally {
      await s3.restart();
    }
    expect(first.status).toBe("s3-failed");
    expect(first.error).toMatch(/^S3: .*ECONNREFUSED/);
    const local = await readdir(cfg.BACKUP_DIR);
    expect(local).toContain(first.artefact!.file);
    expect(local).toContain(first.artefact!.file + ".manifest.json");

    const second = await runBackup({ config: cfg, log, s3: outage }, "manual");
    expect(second.status).toBe("ok");
    expect(second.s3!.uploaded.sort()).toEqual([first.artefact!.file, second.artefact!.file].sort());
    const keys = [...(await outage.listKeys()).keys()];
    expect(keys).toHaveLength(4);
  });

  it("lists past 1000 objects, prunes with batched deletes, and never touches objects it did not make", async () => {
    const prefix = "many/";
    const client = rawClient();
    const base = Date.UTC(2024, 0, 1);
    const names: string[] = [];
    // 520 artefacts (1040 objects), one minute apart, all verified (manifest present).
    for (let i = 0; i < 520; i++) names.push(artefactName("app", new Date(base + i * 60_000), "custom"));
    const put = (Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body }));
    for (let i = 0; i < names.length; i += 40)
      await Promise.all(
        names.slice(i, i + 40).flatMap((n) => [put(prefix + n, "dump"), put(prefix + n + ".manifest.json", "{}")]),
      );
    await put(prefix + "README.txt", "operator notes");
    await put(prefix + "app-20230101T000000.000Z.dump.bak", "someone's copy");
    client.destroy();

    const many = store({ prefix });
    expect((await many.listKeys()).size).toBe(1042);
    const dry = await pruneS3(
      many,
      { keepLast: 3, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
      { dryRun: true, log, database: "app" },
    );
    expect(dry.delete).toHaveLength(517);
    expect((await many.listKeys()).size).toBe(1042);

    const plan = await pruneS3(
      many,
      { keepLast: 3, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
      { dryRun: false, log, database: "app" },
    );
    expect(plan.keep.map((k) => k.name)).toEqual(names.slice(-3).reverse());
    const left = [...(await many.listKeys()).keys()].sort();
    expect(left).toEqual(
      [
        prefix + "README.txt",
        prefix + "app-20230101T000000.000Z.dump.bak",
        ...names.slice(-3).flatMap((n) => [prefix + n, prefix + n + ".manifest.json"]),
      ].sort(),
    );
  });

  it("an object without its manifest (an interrupted upload) is not counted and not deleted", async () => {
    const prefix = "partial/";
    const client = rawClient();
    const put = (Key: string) => client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: "x" }));
    const old = artefactName("app", new Date(Date.UTC(2024, 0, 1)), "custom");
    const newer = artefactName("app", new Date(Date.UTC(2024, 0, 2)), "custom");
    const newest = artefactName("app", new Date(Date.UTC(2024, 0, 3)), "custom");
    await Promise.all([put(prefix + old), put(prefix + old + ".manifest.json"), put(prefix + newer)]);
    await Promise.all([put(prefix + newest), put(prefix + newest + ".manifest.json")]);
    client.destroy();
    const plan = await pruneS3(
      store({ prefix }),
      { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
      { dryRun: false, log, database: "app" },
    );
    expect(plan).toMatchObject({ keep: [{ name: newest }], delete: [old], ignored: [newer] });
    expect([...(await store({ prefix }).listKeys()).keys()].sort()).toEqual(
      [prefix + newer, prefix + newest, prefix + newest + ".manifest.json"].sort(),
    );
  });
});
