import type { Job } from "bullmq";
import { JOB, type JobName } from "../../infra/queue.ts";
import type { WorkerDeps } from "../deps.ts";
import { reconcile } from "../reconciler.ts";
import { expireInstance } from "./expire-instance.ts";
import { startInstance } from "./start-instance.ts";
import { stopInstance } from "./stop-instance.ts";
import { sweepStale } from "./sweep.ts";

/** One processor per job name. */
export const processors: Record<JobName, (job: Job, deps: WorkerDeps) => Promise<void>> = {
  [JOB.start]: startInstance,
  [JOB.stop]: stopInstance,
  [JOB.expire]: expireInstance,
  [JOB.sweep]: (_job, deps) => sweepStale(deps),
  [JOB.reconcile]: async (_job, deps) => {
    await reconcile(deps);
  },
};
