// The backup command's memory does not grow with the dump: no byte of it is buffered in Node (pg_dump writes the
// file, which is read back through one reused buffer). Measured on the image's own command (`backup.sh now`, its
// Node flags) with a compile cache filled as the image's build fills it (`warm-cache.sh`), as the peak resident set
// of its process (VmHWM: the kernel's own high-water mark, not a sample of the current size). pg_dump and
// pg_restore are separate processes and not counted.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/files.ts";
import { startS3 } from "../support/s3.ts";
import { generateDatabase, MB, peakRss } from "../support/bench.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { adminUrl, createScratchDb, pgBin, query, seed } from "../support/postgres.ts";

let small: ScratchDb;
let big: ScratchDb;
let compileCache: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const cache = await tempDir("backup-compile-cache");
  cleanups.push(cache.remove);
  compileCache = cache.path;
  await promisify(execFile)("sh", ["ops/backup/warm-cache.sh"], {
    env: { ...process.env, NODE_COMPILE_CACHE: cache.path },
  });
  small = await createScratchDb("ops_backup_mem_small");
  cleanups.push(small.drop);
  await seed(small.url);
  const name = `ops_backup_mem_big_${randomBytes(4).toString("hex")}`;
  const drop = () => query(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {});
  cleanups.push(drop);
  // Well past 64 MB of table data (about 50 MB of dump at compression 1): buffering any share of it would show.
  big = { name, url: await generateDatabase(adminUrl(), name, 200), drop };
}, 300_000);

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

/** Runs `backup now` and returns its exit code and peak RSS in MB (VmHWM, read until the process is gone). */
async function backupNow(url: string, extra: Record<string, string>) {
  const dir = await tempDir("backup-mem");
  cleanups.push(dir.remove);
  const child = spawn("sh", ["ops/backup/backup.sh", "now"], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      BACKUP_DIR: dir.path,
      PG_DUMP_BIN: pgBin("pg_dump"),
      PG_RESTORE_BIN: pgBin("pg_restore"),
      LOG_LEVEL: "warn",
      NODE_COMPILE_CACHE: compileCache,
      ...extra,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const { code, peakMb } = await peakRss(child, 5);
  return { code, peakMb, files: await readdir(dir.path) };
}

describe("backup memory", () => {
  it.each(["custom", "plain"])(
    "a %s backup peaks under 64 MB from the first start, within 4 MB of one of an almost empty database",
    async (format) => {
      const settings = { BACKUP_FORMAT: format, BACKUP_COMPRESSION: "1" };
      // The first start after the warm-up: the stripper must not be loaded.
      const empty = await backupNow(small.url, settings);
      const full = await backupNow(big.url, settings);
      expect([empty.code, full.code]).toEqual([0, 0]);
      const [row] = await query<{ size: string }>(big.url, "SELECT pg_database_size(current_database()) AS size");
      expect(Number(row!.size)).toBeGreaterThan(200 * MB);
      expect(full.files.filter((f) => !f.startsWith(".")).length).toBe(2); // the dump and its manifest
      // Node 24 alone is ~46 MB, the modules loaded ~16 MB. With V8's optimising compilers on, or the TypeScript
      // stripper loaded (no compile cache), it went past 74 MB; with the pg driver loaded for the version, 64.
      expect(empty.peakMb).toBeLessThan(64);
      expect(full.peakMb).toBeLessThan(64);
      expect(full.peakMb - empty.peakMb).toBeLessThan(4);
    },
    180_000,
  );

  it("uploading that backup to S3 (s3rver) peaks under 92 MB: parts are read from the file, one buffer each", async () => {
    const s3 = await startS3("memory");
    cleanups.push(s3.destroy);
    const env = {
      BACKUP_S3_BUCKET: s3.bucket,
      BACKUP_S3_ENDPOINT: s3.endpoint,
      BACKUP_S3_FORCE_PATH_STYLE: "true",
      BACKUP_S3_ACCESS_KEY_ID: "S3RVER",
      BACKUP_S3_SECRET_ACCESS_KEY: "S3RVER",
    };
    const full = await backupNow(big.url, env);
    expect(full.code).toBe(0);
    // The SDK's modules take ~10 MB and the parts in flight 5 MB × 2 (~85 MB in all); with V8's optimising
    // compilers on, ~98 MB; lib-storage's Upload, which assembled each part by concatenating chunks, past 130 MB.
    expect(full.peakMb).toBeLessThan(92);
  }, 180_000);
});
