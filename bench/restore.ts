// bench:restore — downtime of our restore (first container stopped → last container running again) beside a raw
// `pg_restore` of the same dump into an empty database, in the same run. BENCH_DB_MB sets the size (default 1024).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRestoreConfig } from "../ops/restore/config.ts";
import { restoreFile } from "../ops/restore/run.ts";
import { sha256File } from "../ops/shared/files.ts";
import { createLogger } from "../core/logger.ts";
import { runToolOk } from "../ops/shared/process.ts";
import { docker, startStandIns } from "../test/ops/support/containers.ts";
import { pgBin, query } from "../test/ops/support/postgres.ts";
import { fmtS, generateDatabase, measure } from "../test/ops/support/bench.ts";

const adminUrl = process.env.TEST_DATABASE_URL!;
const sizeMb = Number(process.env.BENCH_DB_MB ?? 1024);
console.log(`generating a ${sizeMb} MB database…`);
const url = await generateDatabase(adminUrl, "bench_restore_live", sizeMb);
const dir = mkdtempSync(join(tmpdir(), "bench-restore-"));
const standIns = await startStandIns("bench-restore", ["web", "worker"]);
try {
  const dump = join(dir, "live.dump");
  await runToolOk(pgBin("pg_dump"), ["-Fc", `--dbname=${url}`, "-f", dump]);
  await query(adminUrl, "DROP DATABASE IF EXISTS bench_restore_raw WITH (FORCE)");
  await query(adminUrl, "CREATE DATABASE bench_restore_raw");
  const raw = await measure(pgBin("pg_restore"), ["--exit-on-error", "--dbname=bench_restore_raw", dump], {
    ...process.env,
    PGHOST: "127.0.0.1",
    PGPORT: new URL(adminUrl).port,
    PGUSER: "postgres",
  });
  mkdirSync(join(dir, "watch", "incoming"), { recursive: true });
  const config = loadRestoreConfig({
    RESTORE_DATABASE_URL: url,
    RESTORE_WATCH_DIR: join(dir, "watch"),
    RESTORE_STOP_CONTAINERS: standIns.names.join(","),
    RESTORE_MAINTENANCE_FLAG_FILE: join(dir, "maintenance.on"),
    RESTORE_LOCK_FILE: join(dir, ".ops.lock"),
    RESTORE_PRE_BACKUP_DIR: join(dir, "pre-restore"),
    RESTORE_KEEP_OLD_HOURS: "0",
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    PSQL_BIN: pgBin("psql"),
  });
  const { sha256, size } = await sha256File(dump);
  const started = performance.now();
  const result = await restoreFile({ config, docker, log: createLogger("bench", "warn") }, dump, { sha256, size });
  const total = performance.now() - started;
  console.log(`raw pg_restore into an empty database : ${fmtS(raw.ms)}`);
  console.log(
    `our downtime (stop → running again)   : ${fmtS(result.downtimeMs ?? NaN)}  ratio ${((result.downtimeMs ?? NaN) / raw.ms).toFixed(2)} (target <= 1.3)  status ${result.status}`,
  );
  console.log(`our whole run (validate, pre-restore backup, restore, swap, restart): ${fmtS(total)}`);
  for (const s of result.steps) console.log(`  step ${s.name.padEnd(20)} ${fmtS(s.ms)}`);
} finally {
  await standIns.remove();
  for (const name of ["bench_restore_raw", "bench_restore_live"])
    await query(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const rows = await query<{ datname: string }>(
    adminUrl,
    "SELECT datname FROM pg_database WHERE starts_with(datname, 'bench_restore_live__')",
  );
  for (const r of rows) await query(adminUrl, `DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  rmSync(dir, { recursive: true, force: true });
}
