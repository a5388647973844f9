import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Db } from "../infra/db.ts";
import { registerStateGauges } from "../domain/state-gauges.ts";
import type { InstanceQueue } from "../infra/queue.ts";

export interface WorkerMetrics {
  registry: Registry;
  startSeconds: Histogram;
  failures: Counter<"reason">;
}

export function createWorkerMetrics(deps: { db: Db; queue: InstanceQueue }): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ctfi_worker_" });
  registerStateGauges(registry, deps);
  return {
    registry,
    startSeconds: new Histogram({
      name: "ctfi_instance_start_seconds",
      help: "From the instance entering `starting` to its port serving",
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
      registers: [registry],
    }),
    failures: new Counter({
      name: "ctfi_instance_failures_total",
      help: "Instances that failed, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}
