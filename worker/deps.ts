import type { WorkerConfig } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import type { Logger } from "../infra/logger.ts";
import type { InstanceQueue } from "../infra/queue.ts";
import type { Engine } from "./engine/engine.ts";
import type { WorkerMetrics } from "./metrics.ts";
import type { PortProber } from "./port-probe.ts";

export interface WorkerDeps {
  config: WorkerConfig;
  db: Db;
  engine: Engine;
  queue: InstanceQueue;
  logger: Logger;
  prober: PortProber;
  metrics: WorkerMetrics;
}
