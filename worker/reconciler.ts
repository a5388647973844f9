import { getChallenge } from "../domain/challenges.ts";
import { reportEngine } from "../domain/engine-report.ts";
import { UUID_PATTERN } from "../domain/ids.ts";
import { getInstance, listLive, transition, type InstanceRow } from "../domain/instances.ts";
import { enqueueInstanceJob, JOB } from "../infra/queue.ts";
import { afterDeath, movingReason } from "../domain/lifecycle/restart.ts";
import type { WorkerDeps } from "./deps.ts";
import { removeInstance } from "./engine/engine.ts";

/**
 * A running instance lost its container (it exited, or vanished): start it again where the challenge asks for
 * that and restarts remain, else mark the row failed with the reason and clear what is left.
 */
export async function handleDeath(deps: WorkerDeps, row: InstanceRow, reason: string, movable = false): Promise<void> {
  if (row.state !== "running") return;
  const log = deps.logger.child({ instanceId: row.id, requestId: row.request_id });
  const challenge = await getChallenge(deps.db, row.challenge_id);
  const next = afterDeath(challenge, row.restarts, deps.config.MAX_RESTARTS, movable);
  if (next.action === "restart") {
    const moved = await transition(deps.db, row.id, ["running"], "starting", {
      state_reason: movable ? movingReason(reason) : `restarting: ${reason}`,
      restarts: next.attempt,
    });
    if (moved) {
      await enqueueInstanceJob(deps.queue, JOB.start, { instanceId: row.id, requestId: row.request_id });
      log.warn({ reason, restart: next.attempt }, "instance container died; restarting it");
    }
    return;
  }
  const moved = await transition(deps.db, row.id, ["running"], "failed", { error: reason });
  if (!moved) return;
  deps.metrics.failures.inc({ reason: "died" });
  log.warn({ reason }, "instance container died; marked failed");
  await removeInstance(deps.engine, row.id, 0);
}

/**
 * Called for a death the engine reports: re-reads the row so only a still-running instance is touched. Deaths
 * replayed after the engine comes back may tell of one the instance has already been restarted from: a workload
 * that runs now is alive, whatever the report says.
 */
export async function onWorkloadDied(
  deps: WorkerDeps,
  instanceId: string,
  reason: string,
  movable = false,
): Promise<void> {
  if (!UUID_PATTERN.test(instanceId)) return; // no row can match; the reconciler removes the workload
  const row = await getInstance(deps.db, instanceId);
  if (!row) return;
  if (await isRunningNow(deps, row.id)) return;
  await handleDeath(deps, row, reason, movable);
}

async function isRunningNow(deps: WorkerDeps, instanceId: string): Promise<boolean> {
  return (await deps.engine.observe(instanceId)).state === "running";
}

/**
 * Makes the database and the engine agree, both ways: workloads and networks of this deployment without a live
 * row are removed; running rows whose workload exited or vanished are handled as deaths. One object that
 * cannot be handled is logged and skipped, never the end of the pass; one whose instance-id label is not an
 * instance id can have no row, so it is removed as an orphan.
 */
export async function reconcile(deps: WorkerDeps): Promise<{ orphans: number; deaths: number }> {
  const { engine, config, logger } = deps;
  // Listed before the rows: a row going live after this read cannot be mistaken for an orphan's owner missing.
  const { workloads, networks } = await engine.listOurs();
  const live = new Map((await listLive(deps.db)).map((r) => [r.id, r]));

  let orphans = 0;
  let deaths = 0;
  const seen = new Set<string>();
  const each = async (what: Record<string, unknown>, work: () => Promise<void>) =>
    work().catch((err: unknown) => logger.warn({ ...what, err }, "reconcile: object skipped; the next pass retries"));

  for (const w of workloads) {
    const id = w.instanceId;
    await each({ containerId: w.ref, instanceId: id }, async () => {
      if (!UUID_PATTERN.test(id)) {
        logger.warn(
          { containerId: w.ref, instanceId: id },
          "removing a container whose instance-id label is malformed",
        );
        await engine.removeObject(w);
        orphans++;
        return;
      }
      seen.add(id);
      const row = live.get(id) ?? (await getInstance(deps.db, id));
      if (!row || row.state === "removed" || row.state === "failed") {
        await removeInstance(engine, id, 0);
        orphans++;
      } else if (row.state === "running" && w.seen.state === "exited" && !(await isRunningNow(deps, id))) {
        // Workloads were listed before the rows: one seen `created` may have started and gone live since.
        await handleDeath(deps, row, w.seen.reason, w.seen.movable);
        deaths++;
      }
    });
  }
  for (const row of live.values()) {
    await each({ instanceId: row.id }, async () => {
      if (row.state === "running" && !seen.has(row.id)) {
        await handleDeath(deps, row, "container vanished");
        deaths++;
      }
      // A start given up while the engine was away; a start job still pending absorbs this (one id per instance).
      if (row.state === "starting")
        await enqueueInstanceJob(deps.queue, JOB.start, { instanceId: row.id, requestId: row.request_id });
    });
  }
  for (const n of networks) {
    const id = n.instanceId;
    if (seen.has(id) || live.has(id)) continue;
    await each({ networkId: n.ref, instanceId: id }, async () => {
      if (!UUID_PATTERN.test(id)) {
        logger.warn({ networkId: n.ref, instanceId: id }, "removing a network whose instance-id label is malformed");
        await engine.removeObject(n);
        orphans++;
        return;
      }
      const row = await getInstance(deps.db, id);
      if (!row || row.state === "removed" || row.state === "failed") {
        await removeInstance(engine, id, 0);
        orphans++;
      }
    });
  }
  await each({ engineReport: true }, async () => reportEngine(deps.db, config.DEPLOYMENT_NAME, await engine.facts()));
  if (orphans || deaths) logger.info({ orphans, deaths }, "reconciled");
  return { orphans, deaths };
}
