import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBackupConfig } from "../../../ops/backup/config.ts";
import { runBackup } from "../../../ops/backup/run.ts";
import { createS3Store } from "../../../ops/backup/s3-store.ts";
import { createLogger } from "../../../infra/logger.ts";
import { parseArtefactName } from "../../../ops/shared/manifest.ts";
import { tempDir } from "../support/files.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { createScratchDb, pgBin, seed } from "../support/postgres.ts";
import { startS3 } from "../support/s3.ts";

const log = createLogger("test-backup-per-db", "silent");
const cleanups: (() => Promise<unknown>)[] = [];
let big: ScratchDb;
let small: ScratchDb;
let s3: Awaited<ReturnType<typeof startS3>>;

beforeAll(async () => {
  [big, small] = await Promise.all([createScratchDb("ops_bk_big"), createScratchDb("ops_bk_small")]);
  cleanups.push(big.drop, small.drop);
  await Promise.all([seed(big.url, 500, 5000), seed(small.url, 2, 2)]);
  s3 = await startS3();
  cleanups.push(s3.destroy);
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("backups of several databases in one directory and one S3 prefix", () => {
  it("size check and retention each see only their own database's backups", async () => {
    const dir = await tempDir("backup-per-db");
    cleanups.push(dir.remove);
    const store = createS3Store(s3.settings({ prefix: "shared/" }));
    cleanups.push(async () => store.destroy());
    const run = (url: string) =>
      runBackup(
        {
          config: loadBackupConfig({
            DATABASE_URL: url,
            BACKUP_DIR: dir.path,
            PG_DUMP_BIN: pgBin("pg_dump"),
            PG_RESTORE_BIN: pgBin("pg_restore"),
            BACKUP_KEEP_LAST: "1",
            BACKUP_KEEP_DAILY: "0",
            BACKUP_KEEP_WEEKLY: "0",
            BACKUP_KEEP_MONTHLY: "0",
            BACKUP_S3_BUCKET: s3.bucket,
            BACKUP_S3_PREFIX: "shared/",
          }),
          log,
          s3: store,
        },
        "manual",
      );
    expect((await run(big.url)).status).toBe("ok");
    // Far below half the other database's backup: not an emptied database, just a smaller one.
    const second = await run(small.url);
    expect(second.status, second.error).toBe("ok");
    expect(second.pruned).toEqual([]);
    expect(second.s3?.deleted).toEqual([]);

    const databases = (names: Iterable<string>) =>
      [...names].flatMap((n) => parseArtefactName(n)?.database ?? []).sort();
    expect(databases(await readdir(dir.path))).toEqual([big.name, small.name].sort());
    const keys = [...(await store.listKeys()).keys()].map((k) => k.slice("shared/".length));
    expect(databases(keys)).toEqual([big.name, small.name].sort());

    // Each database's own retention still applies: a second backup of `big` replaces its first, only that one.
    const third = await run(big.url);
    expect(third.status, third.error).toBe("ok");
    expect(third.pruned).toHaveLength(1);
    expect(parseArtefactName(third.pruned[0]!)?.database).toBe(big.name);
    expect(databases(await readdir(dir.path))).toEqual([big.name, small.name].sort());
  });
});
