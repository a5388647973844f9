import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { ApiConfig } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";
import type { Logger } from "../infra/logger.ts";
import type { InstanceQueue } from "../infra/queue.ts";
import type { InstanceWaiter } from "../domain/instance-waiter.ts";

/** What handlers get from the host; handlers never open connections or read the environment themselves. */
export interface AppDeps {
  config: ApiConfig;
  db: Db;
  redis: Redis;
  queue: InstanceQueue;
  waiter: InstanceWaiter;
  logger: Logger;
  metrics: Registry;
  /** Flipped by the server on SIGTERM so readiness fails while draining. */
  draining: { value: boolean };
}
