import { Redis } from "ioredis";

/**
 * Redis for the API side. BullMQ needs the offline queue while it first connects, so fail-fast is done by the
 * callers: they check `status` before using it and bound every wait (see functions/shared/enqueue.ts).
 */
export function createApiRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/** Redis for BullMQ workers, which require commands to wait for a reconnect rather than fail. */
export function createWorkerRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
