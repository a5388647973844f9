import { UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import { JOB, type JobName } from "../../infra/queue.ts";
import type { WorkerDeps } from "../deps.ts";
import { reconcile } from "../reconciler.ts";
import { defineProcessor, runProcessor, type Processor } from "./define.ts";
import { expireInstance } from "./expire-instance.ts";
import { startInstance } from "./start-instance.ts";
import { stopInstance } from "./stop-instance.ts";
import { sweepStale } from "./sweep.ts";

/** Scheduled jobs carry no data; they re-read the database each time. */
const noPayload = z.object({}).strict();

/** One processor per job name. */
const processors: Record<JobName, Processor> = {
  [JOB.start]: startInstance,
  [JOB.stop]: stopInstance,
  [JOB.expire]: expireInstance,
  [JOB.sweep]: defineProcessor({ name: JOB.sweep, payload: noPayload, run: (_p, _job, deps) => sweepStale(deps) }),
  [JOB.reconcile]: defineProcessor({
    name: JOB.reconcile,
    payload: noPayload,
    run: async (_p, _job, deps) => {
      await reconcile(deps);
    },
  }),
};

/** Runs the processor of the job's name; an unknown name can never succeed. */
export function processJob(job: Job, deps: WorkerDeps): Promise<void> {
  const processor = processors[job.name as JobName];
  if (!processor) return Promise.reject(new UnrecoverableError(`no processor for job '${job.name}'`));
  return runProcessor(processor, job, deps);
}
