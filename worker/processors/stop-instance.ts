import { UnrecoverableError, type Job } from "bullmq";
import { getInstance, transition } from "../../core/instances.ts";
import { instanceJobSchema } from "../../core/queue.ts";
import { removeInstanceContainers } from "../docker/containers.ts";
import type { WorkerDeps } from "../deps.ts";

/** stopping → removed: stop with a grace period, remove, record. Repeats find nothing left and converge. */
export async function stopInstance(job: Job, deps: WorkerDeps): Promise<void> {
  const parsed = instanceJobSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid stop payload: ${parsed.error.message}`);
  const { instanceId, requestId } = parsed.data;
  const { db, docker, config } = deps;
  const log = deps.logger.child({ requestId, instanceId, jobId: job.id });

  const row = await getInstance(db, instanceId);
  if (!row) return;
  if (row.state !== "stopping" && row.state !== "removed" && row.state !== "failed") {
    log.info({ state: row.state }, "stop skipped: removal was not requested");
    return;
  }
  const removed = await removeInstanceContainers(
    docker,
    config.DEPLOYMENT_NAME,
    instanceId,
    config.STOP_TIMEOUT_SECONDS,
  );
  if (row.state === "stopping") await transition(db, instanceId, ["stopping"], "removed");
  log.info({ containers: removed }, "instance removed");
}
