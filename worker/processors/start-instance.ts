import { UnrecoverableError, type Job } from "bullmq";
import { getChallenge } from "../../core/challenges.ts";
import { getInstance, transition } from "../../core/instances.ts";
import { instanceJobSchema } from "../../core/queue.ts";
import {
  containerExit,
  createOrReuse,
  addresses,
  removeInstanceContainers,
  startIfNeeded,
} from "../docker/containers.ts";
import { isTransientDockerError, PermanentStartError } from "../docker/errors.ts";
import type { WorkerDeps } from "../deps.ts";

/**
 * requested → starting → running. Drives Docker toward what the row asks for: a retry reuses the container a
 * previous attempt made, and any failure removes what was created before it is retried or marked failed.
 */
export async function startInstance(job: Job, deps: WorkerDeps): Promise<void> {
  const parsed = instanceJobSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid start payload: ${parsed.error.message}`);
  const { instanceId, requestId } = parsed.data;
  const { db, docker, config } = deps;
  const log = deps.logger.child({ requestId, instanceId, jobId: job.id });

  let row = await getInstance(db, instanceId);
  if (row?.state === "requested") row = (await transition(db, instanceId, ["requested"], "starting")) ?? row;
  if (!row || row.state !== "starting") {
    log.info({ state: row?.state ?? "missing" }, "start skipped: instance is not waiting to start");
    return;
  }

  const challenge = await getChallenge(db, row.challenge_id);
  if (!challenge) {
    await transition(db, instanceId, ["starting"], "failed", { error: `challenge '${row.challenge_id}' was deleted` });
    throw new UnrecoverableError("challenge deleted");
  }

  const started = performance.now();
  try {
    const container = await createOrReuse(docker, {
      labels: {
        deployment: config.DEPLOYMENT_NAME,
        instanceId,
        teamId: row.team_id,
        challengeId: row.challenge_id,
        requestId: row.request_id,
      },
      challenge,
      bindAddress: config.PORT_BIND_ADDRESS,
      env: { TEAM_ID: row.team_id, CHALLENGE_ID: row.challenge_id, INSTANCE_ID: instanceId },
    });
    await startIfNeeded(container);
    const { hostPort, containerIp } = await addresses(container, challenge.port);
    const target = {
      direct: containerIp ? { host: containerIp, port: challenge.port } : null,
      published: { host: config.PORT_CHECK_HOST, port: hostPort },
    };
    await deps.prober
      .waitForPort(target, config.START_TIMEOUT_SECONDS * 1000, () => containerExit(container))
      .catch((err: Error) => {
        throw new PermanentStartError(err.message);
      });
    const address = `http://${config.PUBLIC_HOST}:${hostPort}`;
    const running = await transition(db, instanceId, ["starting"], "running", {
      container_id: container.id,
      host_port: hostPort,
      address,
      error: null,
    });
    if (!running) {
      // Removal was asked for while we were starting; the row wins.
      await removeInstanceContainers(docker, config.DEPLOYMENT_NAME, instanceId, 0);
      log.info("instance no longer wanted after start; container removed");
      return;
    }
    log.info({ containerId: container.id, hostPort, ms: Math.round(performance.now() - started) }, "instance running");
  } catch (err) {
    await removeInstanceContainers(docker, config.DEPLOYMENT_NAME, instanceId, 0).catch((cleanupErr: unknown) =>
      log.error({ err: cleanupErr }, "could not remove container after failed start; the reconciler will"),
    );
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const retry = !(err instanceof PermanentStartError) && isTransientDockerError(err) && !lastAttempt;
    const reason = err instanceof Error ? err.message : String(err);
    if (retry) {
      log.warn({ err: reason, attempt: job.attemptsMade + 1 }, "start failed; will retry");
      throw err;
    }
    await transition(db, instanceId, ["starting"], "failed", { error: reason });
    log.error({ err: reason }, "instance failed to start");
    throw new UnrecoverableError(reason);
  }
}
