import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type Docker from "dockerode";
import { dumpToArtefact } from "../shared/dump.ts";
import { readArchiveData } from "../shared/verify.ts";
import { writeFileAtomic } from "../shared/files.ts";
import { acquireLockWaiting } from "../shared/lock.ts";
import type { Logger } from "../../infra/logger.ts";
import { MANIFEST_SUFFIX } from "../shared/manifest.ts";
import type { RestoreConfig } from "./config.ts";
import { restartContainers, runningTargets, stopContainers } from "./containers.ts";
import {
  analyze,
  createDatabaseLike,
  databaseExists,
  dropDatabase,
  dropExpiredOld,
  loadDump,
  renameDatabase,
  sideName,
  swapDatabases,
} from "./database.ts";
import { maintenanceOff, maintenanceOn } from "./maintenance.ts";
import { swapSqlite } from "./sqlite.ts";
import type { Journal } from "./state.ts";
import { readState, writeState } from "./state.ts";
import type { Validated } from "./validate.ts";
import { validateFile } from "./validate.ts";

export interface RestoreDeps {
  config: RestoreConfig;
  docker: Docker;
  log: Logger;
  /** Called after each step; tests and metrics observe the run through it. */
  onStep?: (step: string) => void | Promise<void>;
}

export interface RestoreResult {
  runId: string;
  file: string;
  sha256: string;
  size: number;
  kind?: string;
  gzipped?: boolean;
  /** skipped: the file was gone once the lock was ours (another run, the watcher or the one-shot, took it). */
  status: "ok" | "failed" | "dry-run" | "skipped";
  steps: { name: string; ms: number; ok: boolean; detail?: string }[];
  stopped: string[];
  error?: string;
  startedAt: string;
  finishedAt: string;
  /** First container stopped → last container running again. */
  downtimeMs?: number;
}

export const RESULT_SUFFIX = ".result.json";

type Step = <T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string) => Promise<T>;

/**
 * One file, start to end: validate (nothing stopped yet), pre-restore backup, stop, restore beside the live
 * database, swap; and always — success or failure — restart what was stopped and clear the maintenance flag.
 * The file ends in processed/ or failed/ with its result. Never throws for a bad file.
 */
export async function restoreFile(
  deps: RestoreDeps,
  path: string,
  identity: { sha256: string; size: number },
  opts: { keepDryRunFile?: boolean } = {},
): Promise<RestoreResult> {
  const c = deps.config;
  const runId = randomUUID();
  const log = deps.log.child({ runId, file: basename(path) });
  const result: RestoreResult = {
    runId,
    file: basename(path),
    ...identity,
    status: "failed",
    steps: [],
    stopped: [],
    startedAt: new Date().toISOString(),
    finishedAt: "",
  };
  const step = async <T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string): Promise<T> => {
    const t = Date.now();
    try {
      const v = await fn();
      result.steps.push({ name, ms: Date.now() - t, ok: true, detail: detail?.(v) });
      log.info({ step: name, ms: Date.now() - t }, "step done");
      await deps.onStep?.(name);
      return v;
    } catch (err) {
      result.steps.push({ name, ms: Date.now() - t, ok: false, detail: (err as Error).message });
      throw err;
    }
  };
  const workDir = join(c.RESTORE_WATCH_DIR, "work");
  await mkdir(workDir, { recursive: true });
  const workPath = join(workDir, `${runId}.staged`);
  const lock = await acquireLockWaiting(c.RESTORE_LOCK_FILE, `restore ${runId}`, c.RESTORE_LOCK_WAIT_SECONDS * 1000, {
    onWait: (holder) => log.warn({ holder, lock: c.RESTORE_LOCK_FILE }, "waiting for the ops lock"),
  });
  try {
    return await restoreLocked({
      deps,
      path,
      result,
      log,
      step,
      workPath,
      keepDryRunFile: opts.keepDryRunFile ?? false,
    });
  } finally {
    // Whatever failed above (even the clean-up), the shared lock goes with the run: backups must not wait on it.
    await lock.release();
  }
}

/** One run under the lock: what restoreFile set up for it. */
interface Run {
  deps: RestoreDeps;
  path: string;
  result: RestoreResult;
  log: Logger;
  step: Step;
  workPath: string;
  /** The one-shot command's dry run leaves the file where it is. */
  keepDryRunFile: boolean;
}

async function restoreLocked({ deps, path, result, log, step, workPath, keepDryRunFile }: Run): Promise<RestoreResult> {
  const c = deps.config;
  const { runId } = result;
  const identity = { sha256: result.sha256, size: result.size };
  // The watcher and the one-shot command may both have picked this file; the one that got the lock first took it.
  if (!(await stat(path).catch(() => null))) {
    result.status = "skipped";
    result.error = "the file is gone: another run took it";
    result.finishedAt = new Date().toISOString();
    log.info("file gone before the run began: skipped");
    return result;
  }
  let journal: Journal | null = null;
  let downtimeStart = 0;
  let stopping: Promise<void> | undefined;
  try {
    const v = await step(
      "validate",
      () =>
        validateFile({
          path,
          ...identity,
          workPath,
          databaseUrl: c.RESTORE_DATABASE_URL,
          pgRestoreBin: c.PG_RESTORE_BIN,
          sqliteEnabled: c.RESTORE_SQLITE_PATH !== undefined,
        }),
      (v) => v.checks.join("; "),
    );
    result.kind = v.kind;
    result.gzipped = v.gzipped;
    const targets = await runningTargets(deps.docker, {
      names: c.RESTORE_STOP_CONTAINERS,
      label: c.RESTORE_STOP_LABEL,
      composeProject: c.RESTORE_COMPOSE_PROJECT,
    });
    // A custom archive's data is read in full (a file cut short fails here, not half-way through the load) beside
    // the pre-restore backup: both end before anything stops.
    const reading =
      v.kind === "custom" ? step("read data", () => readArchiveData(c.PG_RESTORE_BIN, v.staged)) : Promise.resolve();
    if (c.RESTORE_DRY_RUN) {
      await reading;
      result.status = "dry-run";
      result.steps.push({ name: "plan", ms: 0, ok: true, detail: `would stop ${targets.join(", ") || "nothing"}` });
      result.finishedAt = new Date().toISOString();
      return result;
    }
    const preparing = (async () => {
      if (v.kind === "sqlite") return;
      await dropExpiredOld(c.RESTORE_DATABASE_URL, c.targetDatabase, c.RESTORE_KEEP_OLD_HOURS, log);
      if (!c.RESTORE_PRE_BACKUP || !(await databaseExists(c.RESTORE_DATABASE_URL, c.targetDatabase))) return;
      await step(
        "pre-restore backup",
        async () => {
          await mkdir(c.RESTORE_PRE_BACKUP_DIR, { recursive: true });
          const a = await dumpToArtefact({
            databaseUrl: c.RESTORE_DATABASE_URL,
            dir: c.RESTORE_PRE_BACKUP_DIR,
            format: "custom",
            // A safety copy taken while the file waits to be restored: fast (level 1) over small.
            compression: "1",
            pgDumpBin: c.PG_DUMP_BIN,
            pgRestoreBin: c.PG_RESTORE_BIN,
            kind: "pre-restore",
            runId,
            log,
          });
          return a.path;
        },
        (p) => p,
      );
    })();
    // Both settle before the run goes on or fails: nothing of them outlives this point.
    const [read, prepared] = await Promise.allSettled([reading, preparing]);
    if (read.status === "rejected") throw read.reason;
    if (prepared.status === "rejected") throw prepared.reason;

    // Recorded before anything is stopped, so a crash from here on is recovered at the next start. Only a journal
    // that reached the disk counts: if it could not be written, nothing was stopped and nothing needs restarting.
    const planned: Journal = {
      runId,
      file: path,
      ...identity,
      startedAt: result.startedAt,
      phase: "stopping",
      stopped: targets,
      maintenance: true,
    };
    await saveJournal(c, planned);
    journal = planned;
    await maintenanceOn(c.RESTORE_MAINTENANCE_FLAG_FILE, `restore ${runId} of ${basename(path)}`);
    downtimeStart = Date.now();
    result.stopped = targets;
    stopping = step(
      "stop containers",
      () => stopContainers(deps.docker, targets, c.RESTORE_STOP_TIMEOUT_SECONDS, log),
      () => targets.join(", "),
    );
    if (v.kind === "sqlite") {
      await stopping;
      await restoreSqlite(c, v, journal, runId, step);
    } else if (c.RESTORE_MODE === "in-place") {
      await stopping;
      await restoreInPlace(deps, v, step);
    } else await restoreBySwap(deps, v, journal, step, stopping);
    result.status = "ok";
  } catch (err) {
    result.error = (err as Error).message;
    log.error({ err: result.error }, "restore failed");
    if (journal?.newDatabase && journal.phase === "restoring")
      await dropDatabase(c.RESTORE_DATABASE_URL, journal.newDatabase).catch(() => {});
  } finally {
    if (journal) {
      await stopping?.catch(() => {}); // never start a container while its stop is still under way
      const swapped = journal.phase === "swapped";
      journal.phase = "restarting";
      // The restart must happen even when the journal cannot be written.
      await saveJournal(c, journal).catch((err: Error) => log.error({ err: err.message }, "journal not written"));
      const restartStart = Date.now();
      // ANALYZE of the swapped-in database runs while the services start: it needs nothing from them.
      const analyzing =
        swapped && journal.newDatabase
          ? step("analyze", () => analyze(c.RESTORE_DATABASE_URL, c.targetDatabase)).catch((err: Error) =>
              log.warn({ err: err.message }, "ANALYZE failed: autovacuum will gather the statistics"),
            )
          : undefined;
      const failures = await restartContainers(
        deps.docker,
        journal.stopped,
        c.RESTORE_START_CONTAINERS,
        c.RESTORE_START_TIMEOUT_SECONDS * 1000,
        log,
      );
      result.steps.push({
        name: "restart containers",
        ms: Date.now() - restartStart,
        ok: failures.length === 0,
        detail: failures.join("; ") || [...new Set([...journal.stopped, ...c.RESTORE_START_CONTAINERS])].join(", "),
      });
      if (failures.length) {
        result.status = "failed";
        result.error = [result.error, `containers not back: ${failures.join("; ")}`].filter(Boolean).join("; ");
      }
      result.downtimeMs = Date.now() - downtimeStart;
      await maintenanceOff(c.RESTORE_MAINTENANCE_FLAG_FILE);
      await analyzing;
    }
    await removeStaged(workPath);
    result.finishedAt = new Date().toISOString();
    // The one-shot dry run leaves the file where it is, to be restored for real next; the watcher settles every file
    // it took (a dry run included), or it would take it again at the next poll.
    if (!(keepDryRunFile && result.status === "dry-run"))
      await settle(c, path, result).catch((err: Error) => {
        result.status = "failed";
        result.error = [result.error, `result not recorded: ${err.message}`].filter(Boolean).join("; ");
        log.error({ err: err.message }, "result not recorded");
      });
  }
  return result;
}

/** The staged copy and the side files SQLite may have made beside it while validating. */
async function removeStaged(workPath: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) await rm(workPath + suffix, { force: true });
}

/**
 * The load into the side database begins while the containers are still stopping (it touches nothing they use);
 * the swap waits until they are all down. If the stop fails, the load is cut short and the stop's error is the
 * run's error.
 */
async function restoreBySwap(deps: RestoreDeps, v: Validated, journal: Journal, step: Step, stopping: Promise<void>) {
  const c = deps.config;
  // Side names carry the time to the second: a restore less than a second after the previous one (or after a run
  // that left its side database) moves on to the next free second rather than colliding with it.
  const now = new Date();
  while (
    (await databaseExists(c.RESTORE_DATABASE_URL, sideName(c.targetDatabase, "restore", now))) ||
    (await databaseExists(c.RESTORE_DATABASE_URL, sideName(c.targetDatabase, "old", now)))
  )
    now.setSeconds(now.getSeconds() + 1);
  const fresh = sideName(c.targetDatabase, "restore", now);
  const old = sideName(c.targetDatabase, "old", now);
  journal.phase = "restoring";
  journal.newDatabase = fresh;
  await saveJournal(c, journal);
  const abort = new AbortController();
  stopping.catch(() => abort.abort());
  const loading = (async () => {
    await step(
      "create database",
      () => createDatabaseLike(c.RESTORE_DATABASE_URL, c.targetDatabase, fresh),
      () => fresh,
    );
    await step("restore", () =>
      loadDump({
        url: c.RESTORE_DATABASE_URL,
        database: fresh,
        kind: v.kind as "custom" | "plain",
        path: v.staged,
        singleTransaction: false,
        clean: false,
        jobs: c.RESTORE_JOBS,
        pgRestoreBin: c.PG_RESTORE_BIN,
        psqlBin: c.PSQL_BIN,
        signal: abort.signal,
        log: deps.log,
      }),
    );
  })();
  // Both settle before the run moves on, so nothing is still creating or loading the database a failure drops.
  const [stopped, loaded] = await Promise.allSettled([stopping, loading]);
  if (stopped.status === "rejected") throw stopped.reason;
  if (loaded.status === "rejected") throw loaded.reason;
  journal.phase = "swapping";
  journal.oldDatabase = old;
  await saveJournal(c, journal);
  const live = await databaseExists(c.RESTORE_DATABASE_URL, c.targetDatabase);
  await step(
    "swap",
    async () => {
      if (live) await swapDatabases(c.RESTORE_DATABASE_URL, c.targetDatabase, fresh, old);
      else await renameDatabase(c.RESTORE_DATABASE_URL, fresh, c.targetDatabase);
    },
    () => (live ? `${c.targetDatabase} kept as ${old}` : `${c.targetDatabase} created`),
  );
  journal.phase = "swapped";
  await saveJournal(c, journal);
}

async function restoreInPlace(deps: RestoreDeps, v: Validated, step: Step) {
  const c = deps.config;
  await step("restore in place", () =>
    loadDump({
      url: c.RESTORE_DATABASE_URL,
      database: c.targetDatabase,
      kind: v.kind as "custom" | "plain",
      path: v.staged,
      singleTransaction: true,
      clean: true,
      pgRestoreBin: c.PG_RESTORE_BIN,
      psqlBin: c.PSQL_BIN,
      log: deps.log,
    }),
  );
  await step("analyze", () => analyze(c.RESTORE_DATABASE_URL, c.targetDatabase));
}

async function restoreSqlite(c: RestoreConfig, v: Validated, journal: Journal, runId: string, step: Step) {
  journal.phase = "swapping";
  await saveJournal(c, journal);
  const aside = await step(
    "swap sqlite",
    () => swapSqlite(v.staged, c.RESTORE_SQLITE_PATH!, runId.slice(0, 8)),
    (a) => a ?? "no previous file",
  );
  journal.sqliteAside = aside ?? undefined;
  journal.phase = "swapped";
  await saveJournal(c, journal);
}

async function saveJournal(c: RestoreConfig, journal: Journal): Promise<void> {
  const state = await readState(c.RESTORE_STATE_FILE);
  await writeState(c.RESTORE_STATE_FILE, { ...state, current: journal });
}

/** Moves the file (and a manifest beside it) to processed/ or failed/, writes the result, closes the journal. */
export async function settle(c: RestoreConfig, path: string, result: RestoreResult): Promise<void> {
  const dir = join(c.RESTORE_WATCH_DIR, result.status === "failed" ? "failed" : "processed");
  await mkdir(dir, { recursive: true });
  const dest = join(dir, `${result.startedAt.replace(/[-:]/g, "")}-${basename(path)}`);
  await rename(path, dest).catch(() => {});
  await rename(path + MANIFEST_SUFFIX, dest + MANIFEST_SUFFIX).catch(() => {});
  await rm(path + ".ready", { force: true });
  await writeFileAtomic(dest + RESULT_SUFFIX, JSON.stringify(result, null, 2) + "\n");
  const state = await readState(c.RESTORE_STATE_FILE);
  state.processed.push({
    file: basename(path),
    sha256: result.sha256,
    size: result.size,
    status: result.status,
    at: result.finishedAt,
  });
  state.current = null;
  await writeState(c.RESTORE_STATE_FILE, state);
}
