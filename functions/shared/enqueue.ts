import type { AppDeps } from "../../runtime/deps.ts";
import { AppError } from "../../runtime/errors.ts";
import { enqueueInstanceJob, type InstanceJob, type InstanceJobName } from "../../core/queue.ts";

const ENQUEUE_TIMEOUT_MS = 1500;

function queueUnavailable(): AppError {
  return new AppError("service_unavailable", "the job queue is unavailable; the request is kept and will be retried", {
    headers: { "Retry-After": "5" },
  });
}

/** Fails fast (503) when Redis is down instead of waiting for a reconnect. */
export function assertQueueReachable(deps: AppDeps): void {
  if (deps.redis.status !== "ready") throw queueUnavailable();
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
