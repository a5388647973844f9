import { basename } from "node:path";
import type Docker from "dockerode";
import { acquireLockWaiting } from "../shared/lock.ts";
import type { Logger } from "../../infra/logger.ts";
import type { RestoreConfig } from "./config.ts";
import { restartContainers } from "./containers.ts";
import { databaseExists, dropDatabase, renameDatabase } from "./database.ts";
import { maintenanceOff } from "./maintenance.ts";
import type { RestoreResult } from "./run.ts";
import { settle } from "./run.ts";
import { rollbackSqlite } from "./sqlite.ts";
import { readState } from "./state.ts";

/**
 * At start: a journal left by a run that died is finished or rolled back, the containers it had stopped are
 * started again and the maintenance flag is cleared. Returns what was done, or null when there was nothing.
 *
 * Under the shared lock: a live run's journal is never taken for a dead one's (the one-shot command recovers too,
 * maybe while the watcher restores). The lock of the run that died is taken over at once: its holder is gone.
 */
export async function recoverInterruptedRun(
  c: RestoreConfig,
  docker: Docker,
  log: Logger,
): Promise<RestoreResult | null> {
  const lock = await acquireLockWaiting(c.RESTORE_LOCK_FILE, "restore recovery", c.RESTORE_LOCK_WAIT_SECONDS * 1000, {
    onWait: (holder) => log.warn({ holder, lock: c.RESTORE_LOCK_FILE }, "waiting for the ops lock"),
  });
  try {
    return await recoverLocked(c, docker, log);
  } finally {
    await lock.release();
  }
}

async function recoverLocked(c: RestoreConfig, docker: Docker, log: Logger): Promise<RestoreResult | null> {
  const state = await readState(c.RESTORE_STATE_FILE);
  const j = state.current;
  if (!j) return null;
  log.warn({ journal: j }, "found an interrupted restore: recovering");
  const url = c.RESTORE_DATABASE_URL;
  let outcome: string;
  if (j.phase === "swapped" || j.phase === "restarting") {
    outcome = "the restore had completed; only the restart was missing";
  } else if (j.sqliteAside) {
    await rollbackSqlite(c.RESTORE_SQLITE_PATH!, j.sqliteAside);
    outcome = "rolled back: the previous SQLite file is back in place";
  } else {
    // Before or during the swap: the target name must end up on the old data, and the half-restored copy goes.
    if (j.oldDatabase && !(await databaseExists(url, c.targetDatabase)) && (await databaseExists(url, j.oldDatabase)))
      await renameDatabase(url, j.oldDatabase, c.targetDatabase);
    if (j.newDatabase && (await databaseExists(url, j.newDatabase)) && (await databaseExists(url, c.targetDatabase)))
      await dropDatabase(url, j.newDatabase);
    outcome = "rolled back: the live database was left as it was";
  }
  const failures = await restartContainers(
    docker,
    j.stopped,
    c.RESTORE_START_CONTAINERS,
    c.RESTORE_START_TIMEOUT_SECONDS * 1000,
    log,
  );
  await maintenanceOff(c.RESTORE_MAINTENANCE_FLAG_FILE);
  const completed = j.phase === "swapped" || j.phase === "restarting";
  const result: RestoreResult = {
    runId: j.runId,
    file: basename(j.file),
    sha256: j.sha256,
    size: j.size,
    status: completed && failures.length === 0 ? "ok" : "failed",
    steps: [{ name: "recovery", ms: 0, ok: failures.length === 0, detail: outcome }],
    stopped: j.stopped,
    error:
      [completed ? "" : "interrupted: the restore service stopped mid-run", ...failures].filter(Boolean).join("; ") ||
      undefined,
    startedAt: j.startedAt,
    finishedAt: new Date().toISOString(),
  };
  await settle(c, j.file, result);
  log.warn({ outcome, failures }, "recovery finished");
  return result;
}
