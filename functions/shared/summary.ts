// The dashboard's overview, answered by GET /admin/summary and pushed on GET /admin/events.
import { z } from "zod";
import {
  countsByChallenge,
  failuresOverTime,
  FAILURE_BIN_MINUTES,
  LATENCY_BUCKETS,
  startLatencyHistogram,
  WINDOW_MINUTES,
} from "../../domain/dashboard.ts";
import { countLive, countLiveContainers } from "../../domain/instances.ts";
import type { AppDeps } from "../../http/deps.ts";
import {
  backupStatus,
  backupStatusSchema,
  lastRestore,
  maintenanceSchema,
  maintenanceStatus,
  restoreStatusSchema,
} from "./ops-status.ts";

export const summarySchema = z.object({
  capacity: z.object({
    live: z.number(),
    max: z.number(),
    team_max: z.number(),
    containers: z.number().describe("Containers of live instances (a challenge may run several)"),
    containers_max: z.number(),
  }),
  challenges: z.array(
    z.object({ challenge_id: z.string(), live: z.number(), running: z.number(), failed_recently: z.number() }),
  ),
  start_latency: z.object({
    window_minutes: z.number(),
    bucket_bounds_seconds: z.array(z.number()).describe("upper bounds; the last count is for longer starts"),
    counts: z.array(z.number()),
  }),
  failures: z.object({
    window_minutes: z.number(),
    bin_minutes: z.number(),
    bins: z.array(z.object({ at: z.string(), failures: z.number() })),
  }),
  backup: backupStatusSchema,
  last_restore: restoreStatusSchema,
  maintenance: maintenanceSchema,
});
export type Summary = z.infer<typeof summarySchema>;

/** Everything the dashboard shows besides the table; also pushed on the event stream. */
export async function buildSummary(deps: AppDeps): Promise<Summary> {
  const { db, config } = deps;
  const [live, containers, challenges, latency, failures, backup, restore, maintenance] = await Promise.all([
    countLive(db),
    countLiveContainers(db),
    countsByChallenge(db),
    startLatencyHistogram(db),
    failuresOverTime(db),
    backupStatus(config.BACKUP_DIR),
    lastRestore(config.BACKUP_DIR),
    maintenanceStatus(config.MAINTENANCE_FLAG_FILE),
  ]);
  return {
    capacity: {
      live,
      max: config.MAX_LIVE_INSTANCES,
      team_max: config.TEAM_MAX_INSTANCES,
      containers,
      containers_max: config.MAX_LIVE_CONTAINERS,
    },
    challenges,
    start_latency: { window_minutes: WINDOW_MINUTES, bucket_bounds_seconds: [...LATENCY_BUCKETS], counts: latency },
    failures: { window_minutes: WINDOW_MINUTES, bin_minutes: FAILURE_BIN_MINUTES, bins: failures },
    backup,
    last_restore: restore,
    maintenance,
  };
}
