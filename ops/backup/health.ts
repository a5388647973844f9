import type { RunOutcome } from "./run.ts";

export interface BackupHealthState {
  startedAt: Date;
  lastRun?: RunOutcome;
  /** End of the newest verified backup (from disk at start, then from each run). */
  lastGoodAt?: Date;
}

export interface HealthVerdict {
  healthy: boolean;
  reasons: string[];
  lastGoodAt: string | null;
  lastRun: { status: string; finishedAt: string; error?: string } | null;
}

/**
 * Unhealthy when the last run failed (S3 included) or the last good backup is older than `maxAgeMs`; before any
 * backup exists, the service gets `maxAgeMs` from its start to make one.
 */
export function judgeHealth(state: BackupHealthState, maxAgeMs: number, now = new Date()): HealthVerdict {
  const reasons: string[] = [];
  const run = state.lastRun;
  if (run && (run.status === "failed" || run.status === "s3-failed"))
    reasons.push(`last run ${run.status}: ${run.error ?? "unknown error"}`);
  const reference = state.lastGoodAt ?? state.startedAt;
  const age = now.getTime() - reference.getTime();
  if (age > maxAgeMs)
    reasons.push(
      state.lastGoodAt
        ? `last good backup is ${Math.round(age / 1000)} s old (limit ${Math.round(maxAgeMs / 1000)} s)`
        : `no good backup within ${Math.round(maxAgeMs / 1000)} s of start`,
    );
  return {
    healthy: reasons.length === 0,
    reasons,
    lastGoodAt: state.lastGoodAt?.toISOString() ?? null,
    lastRun: run ? { status: run.status, finishedAt: run.finishedAt, error: run.error } : null,
  };
}
