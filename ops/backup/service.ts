import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import cron from "node-cron";
import type { ScheduledTask } from "node-cron";
import type { BackupConfig } from "./config.ts";
import type { BackupHealthState } from "./health.ts";
import { judgeHealth } from "./health.ts";
import { newestVerified } from "./local-store.ts";
import type { BackupDeps, RunOutcome } from "./run.ts";
import { runBackup } from "./run.ts";

/** Time between two scheduled runs: the interval, or the gap between the cron expression's next two firings. */
export function schedulePeriodMs(c: BackupConfig): number {
  if (c.BACKUP_INTERVAL_SECONDS) return c.BACKUP_INTERVAL_SECONDS * 1000;
  const task = cron.createTask(c.BACKUP_SCHEDULE!, () => {}, { timezone: c.BACKUP_TIMEZONE });
  const [a, b] = task.getNextRuns(2);
  void task.destroy();
  return a && b ? b.getTime() - a.getTime() : 86_400_000;
}

/**
 * The long-running service: runs on its schedule (never two at once), optionally once at start, and answers
 * /healthz and /metrics.
 */
export async function startBackupService(deps: BackupDeps & { onRun?: (o: RunOutcome) => void }) {
  const c = deps.config;
  const state: BackupHealthState = { startedAt: new Date() };
  const newest = await newestVerified(c.BACKUP_DIR).catch(() => undefined);
  if (newest?.manifest) state.lastGoodAt = new Date(newest.manifest.finishedAt);
  const maxAgeMs = schedulePeriodMs(c) * c.BACKUP_HEALTH_MAX_AGE_FACTOR;

  let running: Promise<RunOutcome> | null = null;
  const trigger = (kind: RunOutcome["kind"]): Promise<RunOutcome> | null => {
    if (running) {
      deps.log.warn({ kind }, "previous backup still running; this run is skipped");
      return null;
    }
    running = runBackup(deps, kind)
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

  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      const verdict = judgeHealth(state, maxAgeMs);
      res.writeHead(verdict.healthy ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(verdict));
    } else if (req.url === "/metrics" && deps.metrics) {
      deps.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": deps.metrics!.registry.contentType });
        res.end(text);
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(c.BACKUP_HEALTH_PORT, c.BACKUP_HEALTH_HOST, resolve));
  const port = (server.address() as AddressInfo).port;
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
    /** Stops scheduling, waits for a run in progress, closes the health server. */
    async stop() {
      if (interval) clearInterval(interval);
      await task?.destroy();
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type BackupService = Awaited<ReturnType<typeof startBackupService>>;
