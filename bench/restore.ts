// bench:restore — downtime of our restore (first container stopped → last container running again) beside a raw
// `pg_restore` of the same dump into an empty database, in the same run. BENCH_DB_MB sets the size (default 1024),
// BENCH_ROUNDS how many times both are measured (default 3, alternating which goes first; medians compared). Each
// side starts from a quiet server: a 1 GB load leaves autovacuum and writeback busy for a while, and on two cores
// whichever ran next would pay for it.
import { copyFile, mkdir } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRestoreConfig } from "../ops/restore/config.ts";
import type { RestoreResult } from "../ops/restore/run.ts";
import { restoreFile } from "../ops/restore/run.ts";
import { sha256File } from "../ops/shared/files.ts";
import { createLogger } from "../infra/logger.ts";
import { runToolOk } from "../ops/shared/process.ts";
import { docker, startStandIns } from "../test/ops/support/containers.ts";
import { pgBin, query } from "../test/ops/support/postgres.ts";
import { fmtS, generateDatabase, measure } from "../test/ops/support/bench.ts";
import { waitUntil } from "../test/support/wait.ts";
import { percentile } from "./stats.ts";

const adminUrl = process.env.TEST_DATABASE_URL!;
const sizeMb = Number(process.env.BENCH_DB_MB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
console.log(`generating a ${sizeMb} MB database…`);
const url = await generateDatabase(adminUrl, "bench_restore_live", sizeMb);
const dir = mkdtempSync(join(tmpdir(), "bench-restore-"));
const standIns = await startStandIns("bench-restore", ["web", "worker"]);
try {
  const dump = join(dir, "live.dump");
  await runToolOk(pgBin("pg_dump"), ["-Fc", `--dbname=${url}`, "-f", dump]);
  const identity = await sha256File(dump);
  const watch = join(dir, "watch");
  const config = loadRestoreConfig({
    RESTORE_DATABASE_URL: url,
    RESTORE_WATCH_DIR: watch,
    RESTORE_STOP_CONTAINERS: standIns.names.join(","),
    RESTORE_MAINTENANCE_FLAG_FILE: join(dir, "maintenance.on"),
    RESTORE_LOCK_FILE: join(dir, ".ops.lock"),
    RESTORE_PRE_BACKUP_DIR: join(dir, "pre-restore"),
    RESTORE_KEEP_OLD_HOURS: "0",
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    PSQL_BIN: pgBin("psql"),
  });

  const quiesce = async () => {
    await waitUntil(
      "autovacuum to go idle",
      async () =>
        (
          await query<{ n: number }>(
            adminUrl,
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'",
          )
        )[0]!.n === 0,
      300_000,
    );
    await query(adminUrl, "CHECKPOINT");
    await runToolOk("sync", []);
  };
  const raw = async () => {
    await query(adminUrl, "DROP DATABASE IF EXISTS bench_restore_raw WITH (FORCE)");
    await query(adminUrl, "CREATE DATABASE bench_restore_raw");
    await quiesce();
    const r = await measure(pgBin("pg_restore"), ["--exit-on-error", "--dbname=bench_restore_raw", dump], {
      ...process.env,
      PGHOST: "127.0.0.1",
      PGPORT: new URL(adminUrl).port,
      PGUSER: "postgres",
    });
    if (r.code !== 0) throw new Error(`raw pg_restore exited with ${r.code}`);
    await query(adminUrl, "DROP DATABASE bench_restore_raw WITH (FORCE)");
    return r.ms;
  };
  const ours = async (round: number) => {
    // The run moves its file to processed/: each round restores a fresh copy of the same dump.
    const file = join(watch, "incoming", `live-${round}.dump`);
    await mkdir(join(watch, "incoming"), { recursive: true });
    await copyFile(dump, file);
    await quiesce();
    const r = await restoreFile({ config, docker, log: createLogger("bench", "warn") }, file, identity);
    if (r.status !== "ok" || r.downtimeMs === undefined) throw new Error(`restore ${r.status}: ${r.error}`);
    return r;
  };

  const rawMs: number[] = [];
  const downMs: number[] = [];
  const readMs: number[] = [];
  let last: RestoreResult | undefined;
  for (let i = 1; i <= rounds; i++) {
    // Alternating the order spreads the disk's after-effects of one load over both sides.
    if (i % 2 === 1) rawMs.push(await raw());
    last = await ours(i);
    downMs.push(last.downtimeMs!);
    readMs.push(last.steps.find((s) => s.name === "read data")!.ms);
    if (i % 2 === 0) rawMs.push(await raw());
    console.log(
      `round ${i}: raw ${fmtS(rawMs.at(-1)!)}  ours ${fmtS(downMs.at(-1)!)}  ratio ${(downMs.at(-1)! / rawMs.at(-1)!).toFixed(2)}`,
    );
  }
  const rawMedian = percentile(rawMs, 50);
  const downMedian = percentile(downMs, 50);
  console.log(`raw pg_restore into an empty database (median of ${rounds}) : ${fmtS(rawMedian)}`);
  console.log(
    `our downtime, stop → running again (median of ${rounds})     : ${fmtS(downMedian)}  ratio ${(downMedian / rawMedian).toFixed(2)} (target <= 1.3)`,
  );
  const paired = percentile(
    downMs.map((d, i) => d / rawMs[i]!),
    50,
  );
  console.log(`median of the rounds' own ratios                         : ${paired.toFixed(2)}`);
  // The full read of the archive's data (a truncated dump fails there, not half-way through the load) runs before
  // anything stops, beside the pre-restore backup: it lengthens neither the downtime nor, mostly, the run.
  console.log(`full data read, beside the pre-restore backup (median of ${rounds}) : ${fmtS(percentile(readMs, 50))}`);
  console.log(`steps of the last run (stop and load overlap; ANALYZE runs while the services start):`);
  for (const s of last!.steps) console.log(`  step ${s.name.padEnd(20)} ${fmtS(s.ms)}`);
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
