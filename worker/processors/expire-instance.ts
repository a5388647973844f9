import { getInstance, transition, type InstanceRow } from "../../domain/instances.ts";
import { instanceJobSchema, JOB } from "../../infra/queue.ts";
import type { WorkerDeps } from "../deps.ts";
import { defineProcessor } from "./define.ts";
import { finishRemoval } from "./stop-instance.ts";

/** Ends a running instance whose expires_at has passed; one that was renewed meanwhile is left alone. */
export async function expireRow(deps: WorkerDeps, row: InstanceRow, requestId: string): Promise<boolean> {
  if (row.state !== "running" || !row.expires_at || row.expires_at.getTime() > Date.now()) return false;
  const moved = await transition(deps.db, row.id, ["running"], "stopping", { state_reason: "expired" });
  if (!moved) return false;
  await finishRemoval(deps, row.id, deps.logger.child({ requestId, instanceId: row.id, reason: "expired" }));
  return true;
}

export const expireInstance = defineProcessor({
  name: JOB.expire,
  payload: instanceJobSchema,
  async run({ instanceId, requestId }, _job, deps) {
    const row = await getInstance(deps.db, instanceId);
    if (row) await expireRow(deps, row, requestId);
  },
});
