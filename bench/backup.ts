// bench:backup — our backup (to local disk, and to s3rver) beside a raw `pg_dump -Fc > file` of the same database,
// in the same run: wall-time ratio and peak RSS. BENCH_DB_MB sets the database size (default 1024).
import { mkdtempSync, rmSync } from "node:fs";
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
  const raw = await measure("sh", ["-c", `${pgBin("pg_dump")} -Fc --dbname='${url}' > '${join(dir, "raw.dump")}'`]);
  const env = {
    ...process.env,
    DATABASE_URL: url,
    BACKUP_DIR: join(dir, "ours"),
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    LOG_LEVEL: "warn",
  };
  // Through the image's own `backup` command (with its Node flags); the same pid throughout (it execs node).
  const local = await measure("sh", ["ops/backup/backup.sh", "now"], env);
  const toS3 = await measure("sh", ["ops/backup/backup.sh", "now"], {
    ...env,
    BACKUP_DIR: join(dir, "ours-s3"),
    BACKUP_S3_BUCKET: "bench",
    BACKUP_S3_ENDPOINT: s3.endpoint,
    BACKUP_S3_FORCE_PATH_STYLE: "true",
    BACKUP_S3_ACCESS_KEY_ID: "S3RVER",
    BACKUP_S3_SECRET_ACCESS_KEY: "S3RVER",
  });
  console.log(`raw pg_dump -Fc > file : ${fmtS(raw.ms)}`);
  console.log(
    `ours, local            : ${fmtS(local.ms)}  ratio ${(local.ms / raw.ms).toFixed(2)} (target <= 1.15)  peak RSS ${local.peakMb.toFixed(0)} MB (target <= 150)  exit ${local.code}`,
  );
  console.log(
    `ours, local + s3rver   : ${fmtS(toS3.ms)}  ratio ${(toS3.ms / raw.ms).toFixed(2)}  peak RSS ${toS3.peakMb.toFixed(0)} MB  exit ${toS3.code}`,
  );
} finally {
  await s3.destroy();
  rmSync(dir, { recursive: true, force: true });
}
