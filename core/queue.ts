import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";

export const INSTANCE_QUEUE = "instances";

export const JOB = { start: "start", stop: "stop", sweep: "sweep" } as const;
export type JobName = (typeof JOB)[keyof typeof JOB];
export type InstanceJobName = typeof JOB.start | typeof JOB.stop;

export const instanceJobSchema = z.object({
  instanceId: z.uuid(),
  requestId: z.string().min(1).max(128),
});
export type InstanceJob = z.infer<typeof instanceJobSchema>;
/** The sweeper carries no data; it re-reads the database each time. */
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
