import { UnrecoverableError, type Job } from "bullmq";
import type { z } from "zod";
import type { JobName } from "../../infra/queue.ts";
import type { WorkerDeps } from "../deps.ts";

/**
 * One job processor: its job name, the payload schema it accepts and what it does. Retries are the queue's
 * (infra/queue.ts: exponential backoff for every job); a processor ends retrying by throwing UnrecoverableError.
 */
export interface Processor<P extends z.ZodType = z.ZodType> {
  name: JobName;
  payload: P;
  run(payload: z.infer<P>, job: Job, deps: WorkerDeps): Promise<void>;
}

/** Identity function that gives a processor literal full type inference. */
export function defineProcessor<P extends z.ZodType>(processor: Processor<P>): Processor<P> {
  return processor;
}

/** Validates the job's payload against the processor's schema (a bad one can never succeed), then runs it. */
export async function runProcessor(processor: Processor, job: Job, deps: WorkerDeps): Promise<void> {
  const parsed = processor.payload.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${processor.name} payload: ${parsed.error.message}`);
  await processor.run(parsed.data, job, deps);
}
