import { listExpired, listStale } from "../../domain/instances.ts";
import { enqueueInstanceJob, JOB } from "../../infra/queue.ts";
import { staleAfter } from "../../domain/lifecycle/recovery.ts";
import type { WorkerDeps } from "../deps.ts";
import { expireRow } from "./expire-instance.ts";

/**
 * Catches what timers and jobs missed: expired instances whose delayed job was lost, rows left `requested`
 * while Redis was down, `starting` rows of a worker that died, `stopping` rows whose stop job vanished. Job ids
 * are per instance, so a job still pending absorbs a re-enqueue.
 */
export async function sweepStale(deps: WorkerDeps): Promise<void> {
  let expired = 0;
  for (const row of await listExpired(deps.db)) if (await expireRow(deps, row, row.request_id)) expired++;

  const stale = staleAfter({
    startTimeoutSeconds: deps.config.START_TIMEOUT_SECONDS,
    jobLockSeconds: deps.config.JOB_LOCK_SECONDS,
  });
  const work = [
    ...(await listStale(deps.db, "requested", stale.requestedMs)).map((r) => [JOB.start, r] as const),
    ...(await listStale(deps.db, "starting", stale.startingMs)).map((r) => [JOB.start, r] as const),
    ...(await listStale(deps.db, "stopping", stale.stoppingMs)).map((r) => [JOB.stop, r] as const),
  ];
  for (const [name, row] of work) {
    await enqueueInstanceJob(deps.queue, name, { instanceId: row.id, requestId: row.request_id });
  }
  if (work.length || expired) deps.logger.info({ requeued: work.length, expired }, "sweep");
}
