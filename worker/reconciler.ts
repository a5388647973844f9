import { getChallenge } from "../domain/challenges.ts";
import { reportEngine } from "../domain/engine-report.ts";
import { UUID_PATTERN } from "../domain/ids.ts";
import { getInstance, listLive, transition, type InstanceRow } from "../domain/instances.ts";
import { enqueueInstanceJob, JOB } from "../infra/queue.ts";
import { afterDeath } from "../domain/lifecycle/restart.ts";
import { containerExit, removeInstanceResources } from "./docker/containers.ts";
import { isNotFound } from "./docker/errors.ts";
import { engineImageRefs } from "./docker/images.ts";
import { LABEL } from "./docker/labels.ts";
import { removeNetwork } from "./docker/networks.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * A running instance lost its container (it exited, or vanished): start it again where the challenge asks for
 * that and restarts remain, else mark the row failed with the reason and clear what is left.
 */
export async function handleDeath(deps: WorkerDeps, row: InstanceRow, reason: string): Promise<void> {
  if (row.state !== "running") return;
  const log = deps.logger.child({ instanceId: row.id, requestId: row.request_id });
  const next = afterDeath(await getChallenge(deps.db, row.challenge_id), row.restarts, deps.config.MAX_RESTARTS);
  if (next.action === "restart") {
    const moved = await transition(deps.db, row.id, ["running"], "starting", {
      state_reason: `restarting: ${reason}`,
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
  await removeInstanceResources(deps.docker, deps.config.DEPLOYMENT_NAME, row.id, 0);
}

/**
 * Called for a `die` event: re-reads the row so only a still-running instance is touched. Events replayed after
 * the engine comes back (`since`) may tell of a death the instance has already been restarted from: a container
 * that runs now is alive, whatever the event says.
 */
export async function onContainerDied(deps: WorkerDeps, instanceId: string, exitCode: string): Promise<void> {
  if (!UUID_PATTERN.test(instanceId)) return; // no row can match; the reconciler removes the container
  const row = await getInstance(deps.db, instanceId);
  if (!row) return;
  if (row.container_id && (await isRunningNow(deps, row.container_id))) return;
  await handleDeath(deps, row, `container exited (exit code ${exitCode})`);
}

async function isRunningNow(deps: WorkerDeps, containerId: string): Promise<boolean> {
  try {
    return (await containerExit(deps.docker.getContainer(containerId))) === null;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Makes the database and Docker agree, both ways: containers and networks of this deployment without a live
 * row are removed; running rows whose container exited or vanished are handled as deaths. One object that
 * cannot be handled is logged and skipped, never the end of the pass; one whose instance-id label is not an
 * instance id can have no row, so it is removed as an orphan.
 */
export async function reconcile(deps: WorkerDeps): Promise<{ orphans: number; deaths: number }> {
  const { docker, config, logger } = deps;
  const scope = { label: [`${LABEL.deployment}=${config.DEPLOYMENT_NAME}`] };
  // Containers first: a row going live after this read cannot be mistaken for an orphan's owner missing.
  const containers = await docker.listContainers({ all: true, filters: scope });
  const networks = await docker.listNetworks({ filters: scope });
  const live = new Map((await listLive(deps.db)).map((r) => [r.id, r]));

  let orphans = 0;
  let deaths = 0;
  const seen = new Set<string>();
  const each = async (what: Record<string, unknown>, work: () => Promise<void>) =>
    work().catch((err: unknown) => logger.warn({ ...what, err }, "reconcile: object skipped; the next pass retries"));

  for (const c of containers) {
    const id = c.Labels[LABEL.instanceId];
    if (!id) continue;
    await each({ containerId: c.Id, instanceId: id }, async () => {
      if (!UUID_PATTERN.test(id)) {
        logger.warn({ containerId: c.Id, instanceId: id }, "removing a container whose instance-id label is malformed");
        await docker.getContainer(c.Id).remove({ force: true, v: true });
        orphans++;
        return;
      }
      seen.add(id);
      const row = live.get(id) ?? (await getInstance(deps.db, id));
      if (!row || row.state === "removed" || row.state === "failed") {
        await removeInstanceResources(docker, config.DEPLOYMENT_NAME, id, 0);
        orphans++;
      } else if (row.state === "running" && c.State !== "running" && !(await isRunningNow(deps, c.Id))) {
        // Containers were listed before the rows: one seen `created` may have started and gone live since.
        await handleDeath(deps, row, `container ${c.State} (${c.Status})`);
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
    const id = n.Labels?.[LABEL.instanceId];
    if (!id || seen.has(id) || live.has(id)) continue;
    await each({ networkId: n.Id, instanceId: id }, async () => {
      if (!UUID_PATTERN.test(id)) {
        logger.warn({ networkId: n.Id, instanceId: id }, "removing a network whose instance-id label is malformed");
        await removeNetwork(docker, n.Id);
        orphans++;
        return;
      }
      const row = await getInstance(deps.db, id);
      if (!row || row.state === "removed" || row.state === "failed") {
        await removeInstanceResources(docker, config.DEPLOYMENT_NAME, id, 0);
        orphans++;
      }
    });
  }
  await each({ engineReport: true }, async () =>
    reportEngine(deps.db, config.DEPLOYMENT_NAME, {
      refs: await engineImageRefs(docker),
      cpus: ((await docker.info()) as { NCPU: number }).NCPU,
    }),
  );
  if (orphans || deaths) logger.info({ orphans, deaths }, "reconciled");
  return { orphans, deaths };
}
