import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { ApiConfig } from "../core/config.ts";
import type { Db } from "../core/db.ts";
import type { Logger } from "../core/logger.ts";
import type { InstanceQueue } from "../core/queue.ts";
import type { InstanceWaiter } from "./instance-waiter.ts";

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
