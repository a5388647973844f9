export interface StepRecord {
  name: string;
  ms: number;
  ok: boolean;
  detail?: string;
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
  steps: StepRecord[];
  stopped: string[];
  error?: string;
  startedAt: string;
  finishedAt: string;
  /** First container stopped → last container running again. */
  downtimeMs?: number;
}

export const RESULT_SUFFIX = ".result.json";

/** What identifies a run in its result and its journal. */
export interface RunIdentity {
  runId: string;
  file: string;
  sha256: string;
  size: number;
  startedAt: string;
}

/** How a run (or the recovery of one) ended, before it is assembled into its result. */
export interface Outcome {
  status: RestoreResult["status"];
  errors: string[];
  stopped: string[];
  /** Containers that did not come back, each with its reason. */
  notBack?: string[];
  kind?: string;
  gzipped?: boolean;
  downtimeMs?: number;
}

/**
 * The result of a run or of the recovery of one, built in one place: containers that did not come back fail it,
 * whatever else went well, and their failures join its error.
 */
export function assembleResult(run: RunIdentity, outcome: Outcome & { steps: StepRecord[] }): RestoreResult {
  const { notBack = [], errors, ...rest } = outcome;
  const allErrors = [...errors, ...(notBack.length ? [`containers not back: ${notBack.join("; ")}`] : [])];
  return {
    ...run,
    ...rest,
    status: notBack.length ? "failed" : outcome.status,
    error: allErrors.filter(Boolean).join("; ") || undefined,
    finishedAt: new Date().toISOString(),
  };
}
