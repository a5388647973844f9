import { randomUUID } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type Docker from "dockerode";
import { acquireLockWaiting } from "../shared/lock.ts";
import type { Logger } from "../../infra/logger.ts";
import type { RestoreConfig } from "./config.ts";
import type { JournalFile } from "./journal.ts";
import { openJournal } from "./journal.ts";
import { backUp, readData } from "./phases/back-up.ts";
import type { PhaseContext } from "./phases/context.ts";
import { load } from "./phases/load.ts";
import { settle } from "./phases/settle.ts";
import { start } from "./phases/start.ts";
import type { Stopping } from "./phases/stop.ts";
import { stop } from "./phases/stop.ts";
import { swap } from "./phases/swap.ts";
import type { Plan } from "./phases/validate.ts";
import { validate } from "./phases/validate.ts";
import type { Outcome, RestoreResult, RunIdentity } from "./result.ts";
import { assembleResult } from "./result.ts";
import { createTimeline } from "./timeline.ts";

export type { RestoreResult } from "./result.ts";

export interface RestoreDeps {
  config: RestoreConfig;
  docker: Docker;
  log: Logger;
  /** Called after each step; tests and metrics observe the run through it. */
  onStep?: (step: string) => void | Promise<void>;
}

/**
 * One file, start to end, in phases: validate (nothing stopped yet), back up, stop, load, swap; and always, once
 * the stop began — success or failure — start what was stopped and lower the maintenance flag; then settle: the file
 * ends in processed/ or failed/ with its result. Never throws for a bad file.
 */
export async function restoreFile(
  deps: RestoreDeps,
  path: string,
  identity: { sha256: string; size: number },
  opts: { keepDryRunFile?: boolean } = {},
): Promise<RestoreResult> {
  const c = deps.config;
  const run: RunIdentity = {
    runId: randomUUID(),
    file: basename(path),
    ...identity,
    startedAt: new Date().toISOString(),
  };
  const log = deps.log.child({ runId: run.runId, file: run.file });
  const workDir = join(c.RESTORE_WATCH_DIR, "work");
  await mkdir(workDir, { recursive: true });
  const lock = await acquireLockWaiting(
    c.RESTORE_LOCK_FILE,
    `restore ${run.runId}`,
    c.RESTORE_LOCK_WAIT_SECONDS * 1000,
    {
      onWait: (holder) => log.warn({ holder, lock: c.RESTORE_LOCK_FILE }, "waiting for the ops lock"),
    },
  );
  try {
    // The watcher and the one-shot command may both have picked this file; the one that got the lock first took it.
    if (!(await stat(path).catch(() => null))) {
      log.info("file gone before the run began: skipped");
      const gone = "the file is gone: another run took it";
      return assembleResult(run, { status: "skipped", errors: [gone], steps: [], stopped: [] });
    }
    const timeline = createTimeline(log, deps.onStep);
    const ctx: PhaseContext = { config: c, docker: deps.docker, log, runId: run.runId, timeline };
    const journal = openJournal(c.RESTORE_STATE_FILE);
    const workPath = join(workDir, `${run.runId}.staged`);
    const outcome = await checkThenReplace(ctx, journal, run, { path, ...identity, workPath });
    await removeStaged(workPath);
    const result = assembleResult(run, { ...outcome, steps: ctx.timeline.entries });
    // The one-shot dry run leaves the file where it is, to be restored for real next; the watcher settles every file
    // it took (a dry run included), or it would take it again at the next poll.
    if (opts.keepDryRunFile && result.status === "dry-run") return result;
    return await settle(c, journal, path, result).then(
      () => result,
      (err: Error) => {
        log.error({ err: err.message }, "result not recorded");
        const error = [result.error, `result not recorded: ${err.message}`].filter(Boolean).join("; ");
        return { ...result, status: "failed" as const, error };
      },
    );
  } finally {
    // Whatever failed above (even the clean-up), the shared lock goes with the run: backups must not wait on it.
    await lock.release();
  }
}

/** Validate and back up (nothing stopped yet), then replace the data; a dry run stops after validation with its plan. */
async function checkThenReplace(
  ctx: PhaseContext,
  journal: JournalFile,
  run: RunIdentity,
  dropped: Parameters<typeof validate>[1],
): Promise<Outcome> {
  let plan: Plan;
  try {
    plan = await validate(ctx, dropped);
  } catch (err) {
    return failed(ctx, err);
  }
  const described = { kind: plan.file.kind, gzipped: plan.file.gzipped };
  try {
    if (ctx.config.RESTORE_DRY_RUN) {
      await readData(ctx, plan.file);
      const detail = `would stop ${plan.targets.join(", ") || "nothing"}`;
      ctx.timeline.note({ name: "plan", ms: 0, ok: true, detail });
      return { ...described, status: "dry-run", errors: [], stopped: [] };
    }
    await backUp(ctx, plan.file);
  } catch (err) {
    return { ...described, ...failed(ctx, err) };
  }
  return { ...described, ...(await replace(ctx, journal, { ...run, path: dropped.path }, plan)) };
}

/** Stop, load, swap; and whatever failed, start again what was stopped. */
async function replace(
  ctx: PhaseContext,
  journal: JournalFile,
  run: RunIdentity & { path: string },
  plan: Plan,
): Promise<Outcome> {
  let stopping: Stopping | undefined;
  let outcome: Outcome;
  try {
    stopping = await stop(ctx, journal, run, plan.targets);
    await swap(ctx, journal, await load(ctx, journal, plan.file, stopping));
    outcome = { status: "ok", errors: [], stopped: plan.targets };
  } catch (err) {
    outcome = { ...failed(ctx, err), stopped: stopping ? plan.targets : [] };
  }
  return { ...outcome, ...(await start(ctx, journal, stopping)) };
}

function failed(ctx: PhaseContext, err: unknown): Outcome {
  const message = (err as Error).message;
  ctx.log.error({ err: message }, "restore failed");
  return { status: "failed", errors: [message], stopped: [] };
}

/** The staged copy and the side files SQLite may have made beside it while validating. */
async function removeStaged(workPath: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) await rm(workPath + suffix, { force: true });
}
