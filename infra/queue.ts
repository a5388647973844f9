import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";

export const INSTANCE_QUEUE = "instances";

export const JOB = {
  start: "start",
  stop: "stop",
  expire: "expire",
  sweep: "sweep",
  reconcile: "reconcile",
} as const;
export type JobName = (typeof JOB)[keyof typeof JOB];
export type InstanceJobName = typeof JOB.start | typeof JOB.stop | typeof JOB.expire;

export const instanceJobSchema = z.object({
  instanceId: z.uuid(),
  requestId: z.string().min(1).max(128),
});
export type InstanceJob = z.infer<typeof instanceJobSchema>;
/** Periodic jobs carry no data; they re-read the database each time. */
export type SweepJob = Record<string, never>;
export type JobPayload = InstanceJob | SweepJob;
export type InstanceQueue = Queue<JobPayload, void, JobName>;

/** One job per (action, instance): enqueueing twice is a no-op while the first is pending. */
export function instanceJobId(name: InstanceJobName, instanceId: string): string {
  return `${name}-${instanceId}`;
}

export function createInstanceQueue(connection: Redis, prefix: string): InstanceQueue {
  return new Queue<JobPayload, void, JobName>(INSTANCE_QUEUE, {
    connection,
    prefix,
    skipWaitingForReady: true,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: "exponential", delay: 500 },
      removeOnComplete: true,
      // Failures are recorded on the instance row; dropping the job lets the sweeper enqueue the same id again.
      removeOnFail: true,
    },
  });
}

export async function enqueueInstanceJob(
  queue: InstanceQueue,
  name: InstanceJobName,
  data: InstanceJob,
): Promise<void> {
  await queue.add(name, data, { jobId: instanceJobId(name, data.instanceId) });
}

/**
 * A delayed job that ends the instance at `expiresAt`. Its id carries the time, so a renewal adds a new timer and
 * the old one finds the instance not yet expired and does nothing.
 */
export async function scheduleExpiry(queue: InstanceQueue, data: InstanceJob, expiresAt: Date): Promise<void> {
  await queue.add(JOB.expire, data, {
    jobId: `${JOB.expire}-${data.instanceId}-${expiresAt.getTime()}`,
    delay: Math.max(0, expiresAt.getTime() - Date.now()),
  });
}
