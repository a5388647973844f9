import type { Server } from "node:http";
import { Worker } from "bullmq";
import type Docker from "dockerode";
import type { WorkerConfig } from "../infra/config.ts";
import { createDb } from "../infra/db.ts";
import type { Logger } from "../infra/logger.ts";
import { createInstanceQueue, INSTANCE_QUEUE, JOB, type JobName, type JobPayload } from "../infra/queue.ts";
import { createWorkerRedis } from "../infra/redis.ts";
import type { WorkerDeps } from "./deps.ts";
import { createEngine } from "./engine/create.ts";
import { metricsRoute, serveProbes } from "../infra/probe-server.ts";
import { createWorkerMetrics } from "./metrics.ts";
import { PortProber } from "./port-probe.ts";
import { processJob } from "./processors/index.ts";
import { onWorkloadDied, reconcile } from "./reconciler.ts";

const SWEEP_EVERY_MS = 5_000;
const SCHEDULE_CHECK_MS = 5_000;

export interface RunningWorker {
  deps: WorkerDeps;
  metricsServer: Server | null;
  /** Stops taking jobs, lets active ones finish within the deadline, then closes connections. */
  close(): Promise<void>;
}

/** `docker`: the client of the engine (else DOCKER_HOST's); tests hand one of their own lab's. */
export async function startWorker(
  config: WorkerConfig,
  logger: Logger,
  opts: { docker?: Docker } = {},
): Promise<RunningWorker> {
  const engine = await createEngine(config, logger, opts.docker);
  const db = createDb(config.DATABASE_URL, { max: config.WORKER_CONCURRENCY + 4 });
  const connection = createWorkerRedis(config.REDIS_URL);
  connection.on("error", (err) => logger.warn({ err: err.message }, "redis connection error"));
  const queue = createInstanceQueue(connection, config.QUEUE_PREFIX);
  queue.on("error", (err) => logger.warn({ err: err.message }, "queue error"));
  const metrics = createWorkerMetrics({ db, queue });
  const deps: WorkerDeps = { config, db, engine, queue, logger, prober: new PortProber(), metrics };

  // Before taking jobs: whatever a previous worker left half-done is put right.
  await reconcile(deps).catch((err: unknown) => logger.warn({ err }, "start-up reconcile failed; will retry"));

  const worker = new Worker<JobPayload, void, JobName>(INSTANCE_QUEUE, (job) => processJob(job, deps), {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_SECONDS * 1000,
    stalledInterval: config.JOB_LOCK_SECONDS * 1000,
  });
  worker.on("error", (err) => logger.warn({ err: err.message }, "worker error"));
  worker.on("failed", (job, err) =>
    logger.warn({ jobId: job?.id, name: job?.name, attempts: job?.attemptsMade, err: err.message }, "job failed"),
  );
  const schedules = [
    { id: JOB.sweep, every: SWEEP_EVERY_MS },
    { id: JOB.reconcile, every: config.RECONCILE_INTERVAL_SECONDS * 1000 },
  ];
  const upsertSchedule = ({ id, every }: (typeof schedules)[number]) =>
    queue.upsertJobScheduler(id, { every }, { name: id, data: {} });
  // At start every schedule is written, so a changed interval takes effect.
  for (const schedule of schedules) await upsertSchedule(schedule);
  // Redis may come back without its data (restarted empty): without its schedules nothing would expire or be
  // reconciled again. They are made again on every reconnect, and checked periodically in case one is lost
  // otherwise; a check writes only what is missing, leaving the timing of the others alone.
  const ensureSchedules = async () => {
    for (const schedule of schedules) if (!(await queue.getJobScheduler(schedule.id))) await upsertSchedule(schedule);
  };
  // One check at a time: while Redis is away, checks would otherwise pile up and all run when it returns.
  let checking: Promise<void> | null = null;
  const recreateSchedules = () => {
    checking ??= ensureSchedules()
      .catch((err: unknown) => logger.warn({ err }, "job schedules not checked; will retry"))
      .finally(() => (checking = null));
  };
  connection.on("ready", recreateSchedules);
  const scheduleCheck = setInterval(recreateSchedules, SCHEDULE_CHECK_MS);

  const deaths = await engine.watchDeaths({
    onDeath: (instanceId, reason, movable) => onWorkloadDied(deps, instanceId, reason, movable),
    onResume: () => reconcile(deps),
  });
  const metricsServer = config.METRICS_PORT
    ? (await serveProbes({ "/metrics": metricsRoute(metrics.registry) }, config.METRICS_HOST, config.METRICS_PORT))
        .server
    : null;
  logger.info({ concurrency: config.WORKER_CONCURRENCY }, "worker started");

  async function close(): Promise<void> {
    deaths.close();
    clearInterval(scheduleCheck);
    connection.off("ready", recreateSchedules);
    metricsServer?.close();
    const deadline = new Promise<void>((resolve) =>
      setTimeout(resolve, config.SHUTDOWN_TIMEOUT_SECONDS * 1000).unref(),
    );
    await Promise.race([worker.close(), deadline]);
    await queue.close().catch(() => {});
    connection.disconnect();
    await db.end();
  }

  return { deps, metricsServer, close };
}
