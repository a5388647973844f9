// bench:backup — our backup (to local disk, and to s3rver) beside raw `pg_dump > file` of the same database and the
// same format and compression, in the same run: wall time, ratio, peak RSS and size. The plain `pg_dump -Z1` line is
// what the popular shell backup images do by default (unverified). BENCH_DB_MB sets the size (default 1024).
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pgBin } from "../test/ops/support/postgres.ts";
import { startS3 } from "../test/ops/support/s3.ts";
import { fmtS, generateDatabase, measure } from "../test/ops/support/bench.ts";

const adminUrl = process.env.TEST_DATABASE_URL!;
const sizeMb = Number(process.env.BENCH_DB_MB ?? 1024);
console.log(`generating a ${sizeMb} MB database…`);
const url = await generateDatabase(adminUrl, "bench_backup", sizeMb);
const dir = mkdtempSync(join(tmpdir(), "bench-backup-"));
const s3 = await startS3("bench");
try {
  // One untimed dump first, so the raw run does not pay alone for reading the table from disk into the cache.
  await measure("sh", ["-c", `${pgBin("pg_dump")} -Fc --dbname='${url}' > /dev/null`]);
  const rawDump = (args: string, file: string) =>
    measure("sh", ["-c", `exec ${pgBin("pg_dump")} ${args} --dbname='${url}' > '${join(dir, file)}'`]);
  const env = {
    ...process.env,
    DATABASE_URL: url,
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    LOG_LEVEL: "warn",
  };
  // Through the image's own `backup` command (with its Node flags); the same pid throughout (it execs node).
  const ours = (name: string, extra: Record<string, string> = {}) =>
    measure("sh", ["ops/backup/backup.sh", "now"], { ...env, BACKUP_DIR: join(dir, name), ...extra });
  const size = (file: string) => `${(statSync(join(dir, file)).size / 1e6).toFixed(0)} MB`;
  const newest = (sub: string) =>
    join(
      sub,
      readdirSync(join(dir, sub)).find((f) => /\.(dump|sql\.gz)$/.test(f))!,
    );
  const line = (label: string, r: Awaited<ReturnType<typeof measure>>, file: string, base?: number) =>
    console.log(
      `${label.padEnd(50)}: ${fmtS(r.ms).padStart(7)}${base ? `  ratio ${(r.ms / base).toFixed(2)}` : "           "}` +
        `  peak RSS ${r.peakMb.toFixed(0).padStart(3)} MB  ${size(file).padStart(7)}  exit ${r.code}`,
    );

  // The popular shell backup images' default: plain SQL through gzip level 1, unverified.
  const rawPlain1 = await rawDump("-Fp -Z1", "raw-plain1.sql.gz");
  const rawCustom = await rawDump("-Fc", "raw.dump");
  const rawCustom1 = await rawDump("-Fc -Z1", "raw1.dump");
  const local6 = await ours("ours6", { BACKUP_COMPRESSION: "6" });
  const local = await ours("ours");
  const plain1 = await ours("ours-plain1", { BACKUP_FORMAT: "plain", BACKUP_COMPRESSION: "1" });
  const toS3 = await ours("ours-s3", {
    BACKUP_S3_BUCKET: "bench",
    BACKUP_S3_ENDPOINT: s3.endpoint,
    BACKUP_S3_FORCE_PATH_STYLE: "true",
    BACKUP_S3_ACCESS_KEY_ID: "S3RVER",
    BACKUP_S3_SECRET_ACCESS_KEY: "S3RVER",
  });
  line("raw pg_dump -Fp -Z1 > file (plain, gzip 1)", rawPlain1, "raw-plain1.sql.gz");
  line("raw pg_dump -Fc > file (custom, default)", rawCustom, "raw.dump");
  line("raw pg_dump -Fc -Z1 > file", rawCustom1, "raw1.dump");
  line("ours, BACKUP_COMPRESSION=6 (vs raw -Fc)", local6, newest("ours6"), rawCustom.ms);
  line("ours, default: 1 (vs raw -Fc -Z1; target <= 1.15)", local, newest("ours"), rawCustom1.ms);
  line("ours, plain, compression 1 (vs raw -Fp -Z1)", plain1, newest("ours-plain1"), rawPlain1.ms);
  line("ours, default, + s3rver (vs raw -Fc -Z1)", toS3, newest("ours-s3"), rawCustom1.ms);
} finally {
  await s3.destroy();
  rmSync(dir, { recursive: true, force: true });
}
