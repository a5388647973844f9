import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { dumpToArtefact } from "../shared/dump.ts";
import { databaseName } from "../shared/postgres.ts";
import { acquireLock, LockBusyError } from "../shared/lock.ts";
import type { Logger } from "../../infra/logger.ts";
import type { BackupConfig } from "./config.ts";
import { newestVerified, sweepLocal } from "./local-store.ts";
import type { BackupMetrics } from "./metrics.ts";
import type { Notifier } from "./notify.ts";
import { pruneLocal, pruneS3, syncToS3 } from "./prune.ts";
import type { RetentionPolicy } from "./retention.ts";
import type { S3Store } from "./s3-store.ts";

/** ok: verified locally (and in S3 when configured); s3-failed: local backup good, S3 step failed. */
export type RunStatus = "ok" | "failed" | "s3-failed" | "skipped";

export interface RunOutcome {
  runId: string;
  kind: "scheduled" | "manual";
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  artefact?: { file: string; sizeBytes: number; sha256: string };
  error?: string;
  s3?: { uploaded: string[]; deleted: string[]; error?: string };
  pruned: string[];
}

export interface BackupDeps {
  config: BackupConfig;
  log: Logger;
  s3?: S3Store;
  metrics?: BackupMetrics;
  notifier?: Notifier;
  /** Aborts a run in progress (the service's stop). */
  signal?: AbortSignal;
  /** Hears of the local backup as soon as it is verified, before S3: it is good whatever S3 does next. */
  onVerified?: (at: Date) => void;
}

export const EXIT_CODE: Record<RunStatus, number> = { ok: 0, failed: 1, "s3-failed": 2, skipped: 3 };

export function retentionPolicy(c: BackupConfig): RetentionPolicy {
  return {
    keepLast: c.BACKUP_KEEP_LAST,
    keepDaily: c.BACKUP_KEEP_DAILY,
    keepWeekly: c.BACKUP_KEEP_WEEKLY,
    keepMonthly: c.BACKUP_KEEP_MONTHLY,
  };
}

/** One run: lock, sweep, dump and verify, local retention, S3 catch-up upload and retention. Never throws. */
export async function runBackup(deps: BackupDeps, kind: RunOutcome["kind"]): Promise<RunOutcome> {
  const { config: c } = deps;
  const runId = randomUUID();
  const log = deps.log.child({ runId, kind });
  const started = new Date();
  const outcome: RunOutcome = {
    runId,
    kind,
    status: "failed",
    startedAt: started.toISOString(),
    finishedAt: "",
    durationMs: 0,
    pruned: [],
  };
  await deps.notifier?.ping("start", runId);
  let lock;
  try {
    await mkdir(c.BACKUP_DIR, { recursive: true });
    lock = await acquireLock(c.BACKUP_LOCK_FILE, `backup ${runId}`, { staleMs: c.BACKUP_LOCK_STALE_SECONDS * 1000 });
  } catch (err) {
    if (err instanceof LockBusyError) {
      outcome.status = "skipped";
      outcome.error = `another ops run holds the lock: ${err.holder}`;
    } else outcome.error = (err as Error).message;
    return finish(deps, outcome, log, started);
  }
  // The run's deadline: whatever hangs (pg_dump, S3), the run ends and the lock goes with it.
  const deadline = AbortSignal.timeout(c.BACKUP_RUN_TIMEOUT_SECONDS * 1000);
  const signal = deps.signal ? AbortSignal.any([deadline, deps.signal]) : deadline;
  const database = databaseName(c.DATABASE_URL);
  try {
    log.info({ dir: c.BACKUP_DIR, format: c.BACKUP_FORMAT }, "backup started");
    await sweepLocal(c.BACKUP_DIR, log);
    const previous = await newestVerified(c.BACKUP_DIR, database);
    const artefact = await dumpToArtefact({
      databaseUrl: c.DATABASE_URL,
      dir: c.BACKUP_DIR,
      format: c.BACKUP_FORMAT,
      compression: c.BACKUP_COMPRESSION,
      pgDumpBin: c.PG_DUMP_BIN,
      pgRestoreBin: c.PG_RESTORE_BIN,
      kind,
      runId,
      log,
      previousSizeBytes: previous?.sizeBytes,
      minSizeRatio: c.BACKUP_MIN_SIZE_RATIO,
      progressIntervalMs: c.BACKUP_PROGRESS_INTERVAL_SECONDS * 1000,
      lockWaitTimeoutSeconds: c.BACKUP_LOCK_WAIT_TIMEOUT_SECONDS,
      signal,
    });
    const m = artefact.manifest;
    outcome.artefact = { file: m.file, sizeBytes: m.sizeBytes, sha256: m.sha256 };
    outcome.status = "ok";
    deps.metrics?.lastSuccess.set(Date.now() / 1000);
    deps.metrics?.lastSize.set(m.sizeBytes);
    deps.onVerified?.(new Date());
    const policy = retentionPolicy(c);
    const pruneOpts = { dryRun: false, log, database, signal };
    outcome.pruned = (await pruneLocal(c.BACKUP_DIR, policy, pruneOpts)).delete;
    deps.metrics?.pruned.inc({ store: "local" }, outcome.pruned.length);
    if (deps.s3) {
      outcome.s3 = { uploaded: [], deleted: [] };
      try {
        outcome.s3.uploaded = await syncToS3(deps.s3, c.BACKUP_DIR, log, signal);
        outcome.s3.deleted = (await pruneS3(deps.s3, policy, pruneOpts)).delete;
        deps.metrics?.pruned.inc({ store: "s3" }, outcome.s3.deleted.length);
      } catch (err) {
        outcome.status = "s3-failed";
        outcome.s3.error = describeAbort(signal, deadline, c) ?? describeError(err);
        outcome.error = `S3: ${outcome.s3.error}`;
        deps.metrics?.s3Failures.inc();
      }
    }
  } catch (err) {
    outcome.status = "failed";
    outcome.error = describeAbort(signal, deadline, c) ?? describeError(err);
  } finally {
    await lock.release();
  }
  return finish(deps, outcome, log, started);
}

/** Why the run was cut short, when it was: its deadline, or the service stopping. */
function describeAbort(signal: AbortSignal, deadline: AbortSignal, c: BackupConfig): string | undefined {
  if (!signal.aborted) return undefined;
  return deadline.aborted
    ? `the run exceeded BACKUP_RUN_TIMEOUT_SECONDS (${c.BACKUP_RUN_TIMEOUT_SECONDS} s) and was aborted`
    : "the service stopped: the run was aborted";
}

function describeError(err: unknown): string {
  const e = err as Error & { $metadata?: unknown; code?: string };
  // Network failures from the SDK carry the useful part in `code` (ECONNREFUSED) rather than the message.
  return [e.name !== "Error" ? e.name : "", e.message, e.code && !e.message?.includes(e.code) ? `(${e.code})` : ""]
    .filter(Boolean)
    .join(": ")
    .replace(/^: /, "");
}

async function finish(deps: BackupDeps, outcome: RunOutcome, log: Logger, started: Date): Promise<RunOutcome> {
  const finished = new Date();
  outcome.finishedAt = finished.toISOString();
  outcome.durationMs = finished.getTime() - started.getTime();
  deps.metrics?.runs.inc({ outcome: outcome.status });
  deps.metrics?.duration.observe(outcome.durationMs / 1000);
  const level = outcome.status === "ok" ? "info" : outcome.status === "skipped" ? "warn" : "error";
  log[level]({ outcome }, `backup ${outcome.status}`);
  await deps.notifier?.ping(outcome.status === "ok" ? "success" : "fail", JSON.stringify(outcome));
  await deps.notifier?.webhook({ event: "backup", ...outcome });
  return outcome;
}
