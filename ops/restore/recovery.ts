import { basename } from "node:path";
import type Docker from "dockerode";
import { acquireLockWaiting } from "../shared/lock.ts";
import type { Logger } from "../../infra/logger.ts";
import type { RestoreConfig } from "./config.ts";
import { databaseExists, dropDatabase, renameDatabase } from "./database.ts";
import { openJournal } from "./journal.ts";
import { settle } from "./phases/settle.ts";
import { startAgain } from "./phases/start.ts";
import type { RestoreResult } from "./result.ts";
import { assembleResult } from "./result.ts";
import { rollbackSqlite } from "./sqlite.ts";
import type { Journal } from "./state.ts";
import { createTimeline } from "./timeline.ts";

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
  const journal = openJournal(c.RESTORE_STATE_FILE);
  const j = await journal.interrupted();
  if (!j) return null;
  log.warn({ journal: j }, "found an interrupted restore: recovering");
  const completed = j.phase === "swapped" || j.phase === "restarting";
  const timeline = createTimeline(log);
  const outcome = await finishOrUndo(c, j);
  timeline.note({ name: "recovery", ms: 0, ok: true, detail: outcome });
  const notBack = await startAgain({ config: c, docker, log, runId: j.runId, timeline }, j.stopped);
  const { runId, sha256, size, startedAt } = j;
  const result = assembleResult(
    { runId, file: basename(j.file), sha256, size, startedAt },
    {
      status: completed ? "ok" : "failed",
      errors: completed ? [] : ["interrupted: the restore service stopped mid-run"],
      steps: timeline.entries,
      stopped: j.stopped,
      notBack,
    },
  );
  await settle(c, journal, j.file, result);
  log.warn({ outcome, notBack }, "recovery finished");
  return result;
}

/** Leaves the data as the journal's phase says it must be: the restored data once swapped, else the old. */
async function finishOrUndo(c: RestoreConfig, j: Journal): Promise<string> {
  if (j.phase === "swapped" || j.phase === "restarting")
    return "the restore had completed; only the restart was missing";
  if (j.sqliteAside) {
    await rollbackSqlite(c.RESTORE_SQLITE_PATH!, j.sqliteAside);
    return "rolled back: the previous SQLite file is back in place";
  }
  // Before or during the swap: the target name must end up on the old data, and the half-restored copy goes.
  const url = c.RESTORE_DATABASE_URL;
  if (j.oldDatabase && !(await databaseExists(url, c.targetDatabase)) && (await databaseExists(url, j.oldDatabase)))
    await renameDatabase(url, j.oldDatabase, c.targetDatabase);
  if (j.newDatabase && (await databaseExists(url, j.newDatabase)) && (await databaseExists(url, c.targetDatabase)))
    await dropDatabase(url, j.newDatabase);
  return "rolled back: the live database was left as it was";
}
