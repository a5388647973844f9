import type { AppDeps } from "../../http/deps.ts";
import { AppError } from "../../http/errors.ts";
import { enqueueInstanceJob, type InstanceJob, type InstanceJobName } from "../../infra/queue.ts";

const ENQUEUE_TIMEOUT_MS = 1500;

function queueUnavailable(): AppError {
  return new AppError("service_unavailable", "the job queue is unavailable; the request is kept and will be retried", {
    headers: { "Retry-After": "5" },
  });
}

const READY_WAIT_MS = 1000;

/** Fails fast (503) when Redis is down; a connection that is just (re)connecting gets a second to get there. */
export async function assertQueueReachable(deps: AppDeps): Promise<void> {
  const { redis } = deps;
  if (redis.status === "ready") return;
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), READY_WAIT_MS);
    const onReady = () => done(true);
    function done(ok: boolean) {
      clearTimeout(timer);
      redis.off("ready", onReady);
      resolve(ok);
    }
    redis.on("ready", onReady);
  });
  if (!ready) throw queueUnavailable();
}

/**
 * Enqueues a job whose id is derived from the instance, so a repeat is a no-op. A row already committed stays in
 * its state when this fails; the worker's sweeper enqueues such rows once Redis is back.
 */
export async function enqueueOrUnavailable(deps: AppDeps, name: InstanceJobName, data: InstanceJob): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(queueUnavailable()), ENQUEUE_TIMEOUT_MS);
  });
  try {
    await Promise.race([enqueueInstanceJob(deps.queue, name, data), timeout]);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw queueUnavailable();
  } finally {
    clearTimeout(timer);
  }
}
