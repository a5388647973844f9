import type Docker from "dockerode";
import type { WorkerConfig } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import type { Logger } from "../infra/logger.ts";
import type { InstanceQueue } from "../infra/queue.ts";
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
