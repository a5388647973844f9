import { listExpired, listStale } from "../../core/instances.ts";
import { enqueueInstanceJob, JOB } from "../../core/queue.ts";
import type { WorkerDeps } from "../deps.ts";
import { expireRow } from "./expire-instance.ts";

const REQUESTED_GRACE_MS = 5_000;
const STOPPING_GRACE_MS = 15_000;

/**
 * Catches what timers and jobs missed: expired instances whose delayed job was lost, rows left `requested`
 * while Redis was down, `starting` rows of a worker that died, `stopping` rows whose stop job vanished. Job ids
 * are per instance, so a job still pending absorbs a re-enqueue.
 */
export async function sweepStale(deps: WorkerDeps): Promise<void> {
  let expired = 0;
  for (const row of await listExpired(deps.db)) if (await expireRow(deps, row, row.request_id)) expired++;

  // Longer than a start can take plus the time a crashed worker's job needs to be found stalled; re-enqueueing a
  // job that is still pending is a no-op anyway.
  const { START_TIMEOUT_SECONDS, JOB_LOCK_SECONDS } = deps.config;
  const startingGraceMs = (START_TIMEOUT_SECONDS + 2 * JOB_LOCK_SECONDS + 5) * 1000;
  const work = [
    ...(await listStale(deps.db, "requested", REQUESTED_GRACE_MS)).map((r) => [JOB.start, r] as const),
    ...(await listStale(deps.db, "starting", startingGraceMs)).map((r) => [JOB.start, r] as const),
    ...(await listStale(deps.db, "stopping", STOPPING_GRACE_MS)).map((r) => [JOB.stop, r] as const),
  ];
  for (const [name, row] of work) {
    await enqueueInstanceJob(deps.queue, name, { instanceId: row.id, requestId: row.request_id });
  }
  if (work.length || expired) deps.logger.info({ requeued: work.length, expired }, "sweep");
}
