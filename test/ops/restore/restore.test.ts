import { spawn } from "node:child_process";
import { copyFile, readdir, readFile, stat, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBackupConfig } from "../../../ops/backup/config.ts";
import { runBackup } from "../../../ops/backup/run.ts";
import type { RestoreConfig } from "../../../ops/restore/config.ts";

import { createIntake } from "../../../ops/restore/intake.ts";
import { recoverInterruptedRun } from "../../../ops/restore/recovery.ts";
import { restoreFile } from "../../../ops/restore/run.ts";
import { readState } from "../../../ops/restore/state.ts";
import { sha256File } from "../../../ops/shared/files.ts";
import { createLogger } from "../../../infra/logger.ts";
import { runToolOk } from "../../../ops/shared/process.ts";
import { toolEnv } from "../../support/env.ts";
import { waitUntil } from "../../support/wait.ts";
import { docker, startStandIns } from "../support/containers.ts";
import { tempDir } from "../support/files.ts";
import { dropFile, fileIdentity, hangingPgRestore, restoreConfig, restoreEnv } from "../support/restore.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { adminUrl, createScratchDb, pgBin, query, rowCounts, seed } from "../support/postgres.ts";

const log = createLogger("test-restore", "silent");
const cleanups: (() => Promise<unknown>)[] = [];
let source: ScratchDb;
let target: ScratchDb;
let standIns: Awaited<ReturnType<typeof startStandIns>>;
let work: string;
let dumps: Record<string, string>;

function config(watch: string, extra: Record<string, string> = {}): RestoreConfig {
  return restoreConfig(target.url, watch, standIns.names, extra);
}

/**
 * Restores `path`, recording once the stop is done and again once the live database has been swapped whether the
 * stand-ins were down and the flag was up.
 */
async function restoreObserved(cfg: RestoreConfig, path: string) {
  const during: { step: string; running: Record<string, boolean>; flag: boolean }[] = [];
  const result = await restoreFile(
    {
      config: cfg,
      docker,
      log,
      onStep: async (s) => {
        if (s === "stop containers" || s === "swap")
          during.push({
            step: s,
            running: await standIns.running(),
            flag: await stat(cfg.RESTORE_MAINTENANCE_FLAG_FILE).then(
              () => true,
              () => false,
            ),
          });
      },
    },
    path,
    await fileIdentity(path),
  );
  return { result, during };
}

async function targetDatabases(): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    adminUrl(),
    "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
    [target.name],
  );
  return rows.map((r) => r.datname).sort();
}

beforeAll(async () => {
  [source, target] = await Promise.all([createScratchDb("ops_rs_src"), createScratchDb("ops_rs_tgt")]);
  cleanups.push(source.drop, async () => {
    for (const name of await targetDatabases())
      await query(adminUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  await Promise.all([seed(source.url, 40, 400), seed(target.url, 5, 7)]);
  standIns = await startStandIns("ops-restore", ["web", "worker"]);
  cleanups.push(standIns.remove);
  const dir = await tempDir("restore-dumps");
  cleanups.push(dir.remove);
  work = dir.path;
  const env = { ...process.env, PGDATABASE: source.name };
  const custom = join(work, "src.dump");
  await runToolOk(pgBin("pg_dump"), ["-Fc", `--dbname=${source.url}`, "-f", custom], { env });
  const plain = (await runToolOk(pgBin("pg_dump"), ["-Fp", `--dbname=${source.url}`], { maxStdout: 64 << 20 })).stdout;
  await writeFile(join(work, "src.sql"), plain);
  await writeFile(join(work, "src.sql.gz"), gzipSync(plain));
  await writeFile(join(work, "src.dump.gz"), gzipSync(await readFile(custom)));
  // A plain dump that breaks half-way: a statement that fails before the data is complete.
  await writeFile(
    join(work, "broken.sql"),
    plain.replace(/\nCOPY public\.solves/, "\nSELECT 1/0;\nCOPY public.solves"),
  );
  dumps = {
    custom,
    plain: join(work, "src.sql"),
    "plain gzipped": join(work, "src.sql.gz"),
    "custom gzipped": join(work, "src.dump.gz"),
  };
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("restore", () => {
  it.each(["custom", "plain", "custom gzipped", "plain gzipped"])(
    "a %s dump is restored while the app containers are stopped, and they run again after",
    async (type) => {
      const file = dumps[type]!;
      const { watch, path } = await dropFile(`drop-${type.replace(" ", "-")}.bin`, file, cleanups);
      const cfg = config(watch);
      const before = await targetDatabases();
      const { result, during } = await restoreObserved(cfg, path);
      expect(result.error).toBeUndefined();
      expect(result.status).toBe("ok");
      expect(result.kind).toBe(type.split(" ")[0]);
      const down = { running: Object.fromEntries(standIns.names.map((n) => [n, false])), flag: true };
      expect(during).toEqual([
        { step: "stop containers", ...down },
        { step: "swap", ...down },
      ]);
      expect(await standIns.running()).toEqual(Object.fromEntries(standIns.names.map((n) => [n, true])));
      expect(await rowCounts(target.url)).toEqual(await rowCounts(source.url));
      await expect(stat(cfg.RESTORE_MAINTENANCE_FLAG_FILE)).rejects.toThrow();
      // the previous live database is kept under an __old_ name; a pre-restore backup was taken
      expect((await targetDatabases()).length).toBe(before.length + 1);
      expect((await readdir(join(watch, "pre-restore"))).some((f) => f.endsWith(".dump.manifest.json"))).toBe(true);
      const processed = await readdir(join(watch, "processed"));
      const resultFile = processed.find((f) => f.endsWith(".result.json"))!;
      expect(JSON.parse(await readFile(join(watch, "processed", resultFile), "utf8"))).toMatchObject({ status: "ok" });
      expect(await readdir(join(watch, "incoming"))).toEqual([]);
    },
  );

  it("a dump with an SQL error leaves the live database untouched, the containers running, the file in failed/", async () => {
    await query(target.url, "CREATE TABLE IF NOT EXISTS marker (v text); INSERT INTO marker VALUES ('live')");
    const liveCounts = await rowCounts(target.url);
    const before = await targetDatabases();
    const { watch, path } = await dropFile("broken.sql", join(work, "broken.sql"), cleanups);
    const { result, during } = await restoreObserved(config(watch), path);
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/psql exited with code 3.*division by zero/);
    expect(during.map((d) => d.step)).toEqual(["stop containers"]); // it had stopped them, and never swapped
    expect(await standIns.running()).toEqual(Object.fromEntries(standIns.names.map((n) => [n, true])));
    expect(await rowCounts(target.url)).toEqual(liveCounts);
    expect(await targetDatabases()).toEqual(before); // the half-restored copy is gone
    const failed = await readdir(join(watch, "failed"));
    expect(failed.some((f) => f.endsWith("broken.sql"))).toBe(true);
    expect(failed.some((f) => f.endsWith("broken.sql.result.json"))).toBe(true);
  });

  it("a stop that fails cuts the load short: the live database is untouched and the others run again", async () => {
    const liveCounts = await rowCounts(target.url);
    const before = await targetDatabases();
    const doomed = await startStandIns("ops-restore-gone", ["api"]);
    cleanups.push(doomed.remove);
    const { watch, path } = await dropFile("stop-fails.dump", dumps.custom!, cleanups);
    // A load that would never end by itself: the run only finishes if the failed stop cuts it short.
    const hang = await hangingPgRestore(watch);
    const cfg = config(watch, {
      RESTORE_STOP_CONTAINERS: [...standIns.names, ...doomed.names].join(","),
      PG_RESTORE_BIN: hang,
    });
    const result = await restoreFile(
      {
        config: cfg,
        docker,
        log,
        // Chosen as a target while running, gone by the time it is stopped: the engine answers 404.
        onStep: async (s) => {
          if (s === "pre-restore backup") await doomed.remove();
        },
      },
      path,
      await fileIdentity(path),
    );
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/^\(HTTP code 404\) no such container/);
    expect(result.steps.some((s) => s.name === "swap")).toBe(false);
    expect(await standIns.running()).toEqual(Object.fromEntries(standIns.names.map((n) => [n, true])));
    expect(await rowCounts(target.url)).toEqual(liveCounts);
    expect(await targetDatabases()).toEqual(before); // the side database, loaded or not, is gone
    await expect(stat(cfg.RESTORE_MAINTENANCE_FLAG_FILE)).rejects.toThrow();
  });

  it("files that are not dumps, or whose manifest does not match, fail before anything is stopped", async () => {
    const junk = join(work, "junk.dump");
    await writeFile(junk, "MZ this is not a database dump\0\0");
    const a = await dropFile("junk.dump", junk, cleanups);
    const r1 = await restoreObserved(config(a.watch), a.path);
    expect(r1.result.status).toBe("failed");
    expect(r1.result.error).toMatch(/not a PostgreSQL custom-format dump/);
    expect(r1.during).toEqual([]);

    const b = await dropFile("app.dump", dumps.custom!, cleanups);
    await writeFile(
      b.path + ".manifest.json",
      JSON.stringify({ ...JSON.parse(JSON.stringify(await fakeManifest())), sha256: "f".repeat(64) }),
    );
    const r2 = await restoreObserved(config(b.watch), b.path);
    expect(r2.result.error).toMatch(/checksum mismatch/);
    expect(r2.during).toEqual([]);
    expect(await standIns.running()).toEqual(Object.fromEntries(standIns.names.map((n) => [n, true])));
  });

  it("a backup made by ops/backup restores (manifest checked)", async () => {
    const out = await tempDir("restore-from-backup");
    cleanups.push(out.remove);
    const backup = await runBackup(
      {
        config: loadBackupConfig({
          DATABASE_URL: source.url,
          BACKUP_DIR: out.path,
          PG_DUMP_BIN: pgBin("pg_dump"),
          PG_RESTORE_BIN: pgBin("pg_restore"),
        }),
        log,
      },
      "manual",
    );
    expect(backup.status).toBe("ok");
    const { watch, path } = await dropFile(backup.artefact!.file, join(out.path, backup.artefact!.file), cleanups);
    await copyFile(join(out.path, backup.artefact!.file + ".manifest.json"), path + ".manifest.json");
    await query(target.url, "DROP TABLE IF EXISTS marker");
    await query(target.url, "DELETE FROM solves");
    const { result } = await restoreObserved(config(watch), path);
    expect(result.status).toBe("ok");
    expect(result.steps[0]!.detail).toMatch(/manifest sha256 and size match/);
    expect(await rowCounts(target.url)).toEqual(await rowCounts(source.url));
  });

  it("killed mid-restore: on restart the containers come back and the live database is as before", async () => {
    await query(target.url, "CREATE TABLE IF NOT EXISTS marker (v text); INSERT INTO marker VALUES ('before-crash')");
    const liveCounts = await rowCounts(target.url);
    const before = await targetDatabases();
    const { watch, path } = await dropFile("crash.dump", dumps.custom!, cleanups);
    // pg_restore hangs when it starts loading data, so the kill lands in the middle of the restore.
    const hang = await hangingPgRestore(watch);
    const cfg = config(watch, { PG_RESTORE_BIN: hang });
    const env = restoreEnv(target.url, watch, standIns.names, { PG_RESTORE_BIN: hang });
    const child = spawn(process.execPath, ["ops/restore/main.ts", "restore", path], {
      env: { ...toolEnv(), ...env, LOG_LEVEL: "silent" },
      detached: true,
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      await waitUntil(
        "the journal to reach the restore step",
        async () => (await readState(cfg.RESTORE_STATE_FILE)).current?.phase === "restoring",
        30_000,
      );
      await waitUntil(
        "pg_restore loading into the new database",
        async () => (await targetDatabases()).length > before.length,
        30_000,
      );
      // the load starts while the containers stop; they are down well before anything could be swapped
      await waitUntil(
        "the app containers to be stopped",
        async () => Object.values(await standIns.running()).every((r) => !r),
        30_000,
      );
    } finally {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    }
    const recovered = await recoverInterruptedRun(config(watch), docker, log);
    expect(recovered).toMatchObject({ status: "failed", error: expect.stringMatching(/interrupted/) });
    expect(await standIns.running()).toEqual(Object.fromEntries(standIns.names.map((n) => [n, true])));
    expect(await rowCounts(target.url)).toEqual(liveCounts);
    expect(await targetDatabases()).toEqual(before);
    expect((await readState(cfg.RESTORE_STATE_FILE)).current).toBeNull();
    await expect(stat(cfg.RESTORE_MAINTENANCE_FLAG_FILE)).rejects.toThrow();
    expect((await readdir(join(watch, "failed"))).some((f) => f.endsWith("crash.dump"))).toBe(true);
  });

  it("SQLite: the file is swapped in atomically with owner and mode kept and the old -wal moved aside", async () => {
    const dir = (await tempDir("restore-sqlite")).path;
    cleanups.push(() => runToolOk("rm", ["-rf", dir]));
    const live = join(dir, "app.db");
    const make = (path: string, rows: number) => {
      const db = new DatabaseSync(path);
      db.exec("CREATE TABLE t (v int)");
      for (let i = 0; i < rows; i++) db.exec(`INSERT INTO t VALUES (${i})`);
      db.close();
    };
    make(live, 1);
    await chmod(live, 0o640);
    await writeFile(live + "-wal", "stale wal");
    make(join(work, "new.db"), 25);
    await writeFile(join(work, "new.db.gz"), gzipSync(await readFile(join(work, "new.db"))));
    const { watch, path } = await dropFile("snapshot.db.gz", join(work, "new.db.gz"), cleanups);
    const { result } = await restoreObserved(config(watch, { RESTORE_SQLITE_PATH: live }), path);
    expect(result.status).toBe("ok");
    expect(result.kind).toBe("sqlite");
    const db = new DatabaseSync(live, { readOnly: true });
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 25 });
    db.close();
    expect((await stat(live)).mode & 0o777).toBe(0o640);
    const names = await readdir(dir);
    expect(names.some((n) => /^app\.db\.pre-restore-\w+-wal$/.test(n))).toBe(true);
  });
});

describe("intake", () => {
  it("hands out a file only once it stopped changing, or at once with a .ready marker; ignores partials and dotfiles", async () => {
    const watch = (await tempDir("restore-intake")).path;
    cleanups.push(() => runToolOk("rm", ["-rf", watch]));
    const intake = createIntake(watch, 5000);
    const t0 = Date.now();
    expect(await intake.nextReady(t0)).toBeNull();
    const growing = join(intake.incoming, "big.dump");
    await writeFile(growing, "part one");
    for (const name of [".hidden.dump", "upload.dump.partial", "x.sql.tmp"])
      await writeFile(join(intake.incoming, name), "x");
    expect(await intake.nextReady(t0)).toBeNull(); // first sight
    await writeFile(growing, "part one, part two");
    expect(await intake.nextReady(t0 + 4000)).toBeNull(); // changed since: the clock restarts
    expect(await intake.nextReady(t0 + 8000)).toBeNull(); // stable for 4 s < 5 s
    expect(await intake.nextReady(t0 + 9001)).toBe(growing);

    const marked = join(intake.incoming, "now.sql");
    await writeFile(marked, "SELECT 1;");
    await writeFile(marked + ".ready", "");
    expect(await intake.nextReady(t0 + 9002)).toBe(marked);
  });
});

async function fakeManifest() {
  const { size, sha256 } = await sha256File(dumps.custom!);
  return {
    tool: "ctf-instancer-backup",
    toolVersion: "1",
    kind: "manual",
    runId: "r",
    database: source.name,
    format: "custom",
    compression: "6",
    file: "app.dump",
    sizeBytes: size,
    sha256,
    serverVersion: { num: 150000, text: "15" },
    clientVersion: { num: 150000, text: "15" },
    startedAt: "2024-01-01T00:00:00.000Z",
    finishedAt: "2024-01-01T00:00:01.000Z",
    verified: true,
    verification: [],
  };
}
