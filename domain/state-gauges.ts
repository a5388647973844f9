import { Gauge, type Registry } from "prom-client";
import type { Db } from "../infra/db.ts";
import { countByState, countLive, INSTANCE_STATES } from "./instances.ts";
import type { InstanceQueue } from "../infra/queue.ts";

/**
 * Gauges read at scrape time from the source of truth (PostgreSQL and the queue), so every process that exposes
 * them reports the same numbers. A scrape during an outage leaves them unset rather than failing.
 */
export function registerStateGauges(
  registry: Registry,
  deps: { db: Db; queue: InstanceQueue; maxLiveInstances?: number },
): void {
  new Gauge({
    name: "ctfi_instances",
    help: "Instances by state",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const counts = await countByState(deps.db).catch(() => null);
      if (counts) for (const state of INSTANCE_STATES) this.set({ state }, counts[state]);
    },
  });
  const max = deps.maxLiveInstances;
  if (max !== undefined)
    new Gauge({
      name: "ctfi_capacity_remaining",
      help: "Instances that may still be created before MAX_LIVE_INSTANCES",
      registers: [registry],
      async collect() {
        const live = await countLive(deps.db).catch(() => null);
        if (live !== null) this.set(Math.max(0, max - live));
      },
    });
  new Gauge({
    name: "ctfi_queue_jobs",
    help: "Jobs in the instance queue by status",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const counts = await deps.queue.getJobCounts("waiting", "active", "delayed", "failed").catch(() => null);
      if (counts) for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
}
