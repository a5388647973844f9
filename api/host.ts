import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Registry, collectDefaultMetrics } from "prom-client";
import type { ApiConfig } from "../infra/config.ts";
import { createDb } from "../infra/db.ts";
import type { Logger } from "../infra/logger.ts";
import { registerStateGauges } from "../domain/state-gauges.ts";
import { createInstanceQueue } from "../infra/queue.ts";
import { createApiRedis } from "../infra/redis.ts";
import { endpoints } from "../functions/index.ts";
import { createApp } from "../http/app.ts";
import { mountRctf } from "../http/rctf-family.ts";
import { rctfActions } from "../functions/rctf/index.ts";
import { answerClientErrors } from "../http/client-errors.ts";
import { loadCatalogue } from "./catalogue.ts";
import type { AppDeps } from "../http/deps.ts";
import { InstanceWaiter } from "../domain/instance-waiter.ts";

export interface RunningApi {
  url: string;
  deps: AppDeps;
  /** Drains: readiness fails, no new connections, in-flight requests finish within the deadline, then closes. */
  close(): Promise<void>;
}

export async function startApi(config: ApiConfig, logger: Logger): Promise<RunningApi> {
  const db = createDb(config.DATABASE_URL);
  const redis = createApiRedis(config.REDIS_URL);
  redis.on("error", (err) => logger.debug({ err: err.message }, "redis connection error"));
  const queue = createInstanceQueue(redis, config.QUEUE_PREFIX);
  queue.on("error", (err) => logger.debug({ err: err.message }, "queue error"));
  const waiter = new InstanceWaiter(db, config.DATABASE_URL, logger);
  waiter.start();
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: "ctfi_api_" });
  registerStateGauges(metrics, { db, queue, maxLiveInstances: config.MAX_LIVE_INSTANCES });
  const deps: AppDeps = { config, db, redis, queue, waiter, logger, metrics, draining: { value: false } };

  if (config.CHALLENGES_FILE) {
    const ids = await loadCatalogue(db, config.CHALLENGES_FILE, config);
    logger.info({ challenges: ids }, "challenge catalogue loaded");
  }

  const app = createApp(deps, endpoints);
  mountRctf(app, deps, rctfActions);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
  answerClientErrors(server as Server);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${port}`;

  async function close(): Promise<void> {
    deps.draining.value = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ("closeIdleConnections" in server) server.closeIdleConnections();
    const deadline = new Promise<void>((resolve) =>
      setTimeout(resolve, config.SHUTDOWN_TIMEOUT_SECONDS * 1000).unref(),
    );
    await Promise.race([closed, deadline]);
    if ("closeAllConnections" in server) server.closeAllConnections();
    await waiter.close();
    await queue.close().catch(() => {});
    redis.disconnect();
    await db.end();
  }

  return { url, deps, close };
}
