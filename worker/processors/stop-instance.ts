import { getInstance, transition } from "../../domain/instances.ts";
import type { Logger } from "../../infra/logger.ts";
import { instanceJobSchema, JOB } from "../../infra/queue.ts";
import type { WorkerDeps } from "../deps.ts";
import { defineProcessor } from "./define.ts";

/**
 * stopping → removed: stop with a grace period, remove the workload, record; then remove the network, off the
 * path the team waits on (nothing is attached to it any more, and reconciliation removes it should this fail).
 * Repeats converge.
 */
export async function finishRemoval(deps: WorkerDeps, instanceId: string, log: Logger): Promise<void> {
  const removed = await deps.engine.removeWorkload(instanceId, deps.config.STOP_TIMEOUT_SECONDS);
  await transition(deps.db, instanceId, ["stopping"], "removed");
  log.info({ containers: removed }, "instance removed");
  await deps.engine
    .removeNetwork(instanceId)
    .catch((err: unknown) => log.warn({ err }, "instance network not removed; reconciliation will"));
}

export const stopInstance = defineProcessor({
  name: JOB.stop,
  payload: instanceJobSchema,
  async run({ instanceId, requestId }, job, deps) {
    const log = deps.logger.child({ requestId, instanceId, jobId: job.id });
    const row = await getInstance(deps.db, instanceId);
    if (!row) return;
    if (row.state !== "stopping" && row.state !== "removed" && row.state !== "failed") {
      log.info({ state: row.state }, "stop skipped: removal was not requested");
      return;
    }
    await finishRemoval(deps, instanceId, log);
  },
});
