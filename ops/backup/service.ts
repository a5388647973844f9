import cron from "node-cron";
import type { ScheduledTask } from "node-cron";
import type { BackupConfig } from "./config.ts";
import type { BackupHealthState } from "./health.ts";
import { judgeHealth } from "./health.ts";
import { databaseName } from "../shared/postgres.ts";
import { newestVerified } from "./local-store.ts";
import type { BackupDeps, RunOutcome } from "./run.ts";
import { runBackup } from "./run.ts";
import { metricsRoute, serveProbes } from "../../infra/probe-server.ts";

const WEEK_MS = 7 * 86_400_000;

/**
 * Time between two scheduled runs: the interval, or the longest gap between the cron expression's firings over
 * the coming week (8 days of firings, at most 20,000). An irregular schedule such as `0 9-17 * * 1-5` is judged by
 * its weekend gap at every hour, so health does not flap with the time of day.
 */
export function schedulePeriodMs(c: BackupConfig): number {
  if (c.BACKUP_INTERVAL_SECONDS) return c.BACKUP_INTERVAL_SECONDS * 1000;
  const task = cron.createTask(c.BACKUP_SCHEDULE!, () => {}, { timezone: c.BACKUP_TIMEZONE });
  const span = WEEK_MS + 86_400_000;
  // Firings are computed one by one (slow past a few thousand): ask for more only while they span too little.
  let runs: Date[] = [];
  for (const count of [250, 2_500, 20_000]) {
    runs = task.getNextRuns(count);
    if (runs.length < count || runs.at(-1)!.getTime() - runs[0]!.getTime() >= span) break;
  }
  void task.destroy();
  let longest = 0;
  for (let i = 1; i < runs.length && runs[i]!.getTime() - runs[0]!.getTime() <= span; i++)
    longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return longest || 86_400_000;
}

/**
 * The long-running service: runs on its schedule (never two at once), optionally once at start, and answers
 * /healthz and /metrics.
 */
export async function startBackupService(deps: BackupDeps & { onRun?: (o: RunOutcome) => void }) {
  const c = deps.config;
  const state: BackupHealthState = { startedAt: new Date() };
  const newest = await newestVerified(c.BACKUP_DIR, databaseName(c.DATABASE_URL)).catch(() => undefined);
  if (newest?.manifest) state.lastGoodAt = new Date(newest.manifest.finishedAt);
  const maxAgeMs = schedulePeriodMs(c) * c.BACKUP_HEALTH_MAX_AGE_FACTOR;

  let running: Promise<RunOutcome> | null = null;
  const stopping = new AbortController();
  const trigger = (kind: RunOutcome["kind"]): Promise<RunOutcome> | null => {
    if (running) {
      deps.log.warn({ kind }, "previous backup still running; this run is skipped");
      return null;
    }
    // Good as soon as the local copy is verified: a slow or hung S3 upload must not make the service look stale.
    const onVerified = (at: Date) => void (state.lastGoodAt = at);
    running = runBackup({ ...deps, signal: stopping.signal, onVerified }, kind)
      .then((outcome) => {
        state.lastRun = outcome;
        if (outcome.artefact) state.lastGoodAt = new Date(outcome.finishedAt);
        deps.onRun?.(outcome);
        return outcome;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  let task: ScheduledTask | undefined;
  let interval: NodeJS.Timeout | undefined;
  if (c.BACKUP_INTERVAL_SECONDS)
    interval = setInterval(() => void trigger("scheduled"), c.BACKUP_INTERVAL_SECONDS * 1000);
  else
    task = cron.schedule(c.BACKUP_SCHEDULE!, () => void trigger("scheduled"), {
      timezone: c.BACKUP_TIMEZONE,
      name: "backup",
    });

  const healthz = () => {
    const verdict = judgeHealth(state, maxAgeMs);
    return { status: verdict.healthy ? 200 : 503, contentType: "application/json", body: JSON.stringify(verdict) };
  };
  const { server, port } = await serveProbes(
    { "/healthz": healthz, ...(deps.metrics ? { "/metrics": metricsRoute(deps.metrics.registry) } : {}) },
    c.BACKUP_HEALTH_HOST,
    c.BACKUP_HEALTH_PORT,
  );
  deps.log.info(
    { port, schedule: c.BACKUP_SCHEDULE ?? `${c.BACKUP_INTERVAL_SECONDS}s`, maxAgeMs },
    "backup service up",
  );
  if (c.BACKUP_ON_START) void trigger("scheduled");

  return {
    port,
    state,
    /** Runs now unless a run is in progress (then null). */
    trigger,
    /** Stops scheduling, aborts a run in progress (it cleans up and releases the lock), closes the health server. */
    async stop() {
      if (interval) clearInterval(interval);
      await task?.destroy();
      stopping.abort();
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type BackupService = Awaited<ReturnType<typeof startBackupService>>;
