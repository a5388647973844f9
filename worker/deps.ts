import type Docker from "dockerode";
import type { WorkerConfig } from "../core/config.ts";
import type { Db } from "../core/db.ts";
import type { Logger } from "../core/logger.ts";
import type { InstanceQueue } from "../core/queue.ts";
import type { PortProber } from "./docker/port-probe.ts";
import type { WorkerMetrics } from "./metrics.ts";

export interface WorkerDeps {
  config: WorkerConfig;
  db: Db;
  docker: Docker;
  queue: InstanceQueue;
  logger: Logger;
  prober: PortProber;
  metrics: WorkerMetrics;
}
