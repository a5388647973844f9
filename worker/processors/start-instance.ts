import { UnrecoverableError, type Job } from "bullmq";
import { getChallenge, type ChallengeRow } from "../../domain/challenges.ts";
import { issuedFlag } from "../../domain/flags.ts";
import { platformFlagEnv } from "../../domain/platform-flags.ts";
import { getInstance, transition, type InstanceRow } from "../../domain/instances.ts";
import { withExclusiveLock } from "../../infra/db.ts";
import { instanceJobSchema, JOB, scheduleExpiry, type InstanceJob } from "../../infra/queue.ts";
import { ttlSeconds } from "../../domain/lifecycle/expiry.ts";
import { moveCause } from "../../domain/lifecycle/restart.ts";
import type { WorkerDeps } from "../deps.ts";
import { PermanentStartError, removeInstance, type Engine, type StartedWorkload } from "../engine/engine.ts";
import { defineProcessor } from "./define.ts";
import { containersOf, exposuresOf } from "../../domain/challenge-shape.ts";
import { endpointAddress, instanceEndpoints } from "../../domain/endpoints.ts";

/**
 * requested → starting → running. Drives the engine toward what the row asks for: a retry (or a restart after an
 * exit) reuses the workload and network already made, and any failure removes what was created before it is
 * retried or marked failed.
 */
export const startInstance = defineProcessor({
  name: JOB.start,
  payload: instanceJobSchema,
  async run(payload, job, deps) {
    // Two runs of one start can be enqueued at once (a job lost with Redis is enqueued again while the first still
    // runs): only one may drive the instance, or one removes the workload the other is starting.
    const ran = await withExclusiveLock(deps.db, `ctfi:start:${payload.instanceId}`, () => start(payload, job, deps));
    if (!ran) deps.logger.info({ instanceId: payload.instanceId }, "start skipped: another run of it is in progress");
  },
});

async function start({ instanceId, requestId }: InstanceJob, job: Job, deps: WorkerDeps): Promise<void> {
  const { db, engine, config, metrics } = deps;
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
    metrics.failures.inc({ reason: "challenge_deleted" });
    throw new UnrecoverableError("challenge deleted");
  }

  const movedFrom = moveCause(row.state_reason);
  try {
    const workload = await bringUp(deps, row, challenge);
    const first = workload.endpoints[0]!;
    const running = await transition(db, instanceId, ["starting"], "running", {
      container_id: workload.ref,
      host_port: first.answersAt.port,
      address: endpointAddress(first.protocol, first.answersAt.host, first.answersAt.port),
      endpoints: instanceEndpoints(row.slug, workload.endpoints),
      error: null,
      // A move (its node was lost or drained) stays told: the address changed, and the API says why.
      state_reason: movedFrom ? `moved: ${movedFrom}` : null,
      ttlSeconds: ttlSeconds(challenge, config.DEFAULT_TTL_SECONDS),
    });
    if (!running) {
      // Removal was asked for while we were starting; the row wins.
      await removeInstance(engine, instanceId, 0);
      log.info("instance no longer wanted after start; container removed");
      return;
    }
    metrics.startSeconds.observe((Date.now() - row.updated_at.getTime()) / 1000);
    await scheduleExpiry(deps.queue, { instanceId, requestId: row.request_id }, running.expires_at!).catch(
      (err: unknown) => log.warn({ err }, "expiry timer not scheduled; the sweeper covers it"),
    );
    log.info(
      { containerId: workload.ref, endpoints: running.endpoints, expiresAt: running.expires_at },
      "instance running",
    );
  } catch (err) {
    await removeInstance(engine, instanceId, 0).catch((cleanupErr: unknown) =>
      log.error({ err: cleanupErr }, "could not remove container after failed start; the reconciler will"),
    );
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const kind = engine.classify(err);
    const retry = kind !== "permanent" && !lastAttempt;
    const reason = err instanceof Error ? err.message : String(err);
    if (retry) {
      log.warn({ err: reason, attempt: job.attemptsMade + 1 }, "start failed; will retry");
      throw err;
    }
    if (kind === "unreachable") {
      // Not the instance's fault: the engine is away (restarting). The row stays `starting`; the reconciliation
      // run when the engine's events come back, or the sweeper, starts it again.
      log.warn({ err: reason }, "engine unreachable; instance left starting until it returns");
      throw new UnrecoverableError(reason);
    }
    // A move that found no new home still tells why it had to move.
    await transition(db, instanceId, ["starting"], "failed", {
      error: movedFrom ? `${movedFrom}; not moved: ${reason}` : reason,
    });
    metrics.failures.inc({ reason: failureKind(reason) });
    log.error({ err: reason }, "instance failed to start");
    throw new UnrecoverableError(reason);
  }
}

/** The engine starts the containers; then every exposed port has to really serve. Returns where they answer. */
async function bringUp(deps: WorkerDeps, row: InstanceRow, challenge: ChallengeRow): Promise<StartedWorkload> {
  const { engine, config } = deps;
  const labels = {
    deployment: config.DEPLOYMENT_NAME,
    instanceId: row.id,
    teamId: row.team_id,
    challengeId: row.challenge_id,
    requestId: row.request_id,
  };
  const flag = challenge.flag_format ? await issuedFlag(deps.db, row.team_id, row.challenge_id) : null;
  const workload = await engine.start({
    labels,
    challenge,
    containers: containersOf(challenge),
    exposures: exposuresOf(challenge),
    bindAddress: config.PORT_BIND_ADDRESS,
    allowedCapabilities: config.ALLOWED_CAPABILITIES,
    env: {
      TEAM_ID: row.team_id,
      CHALLENGE_ID: row.challenge_id,
      INSTANCE_ID: row.id,
      ...(flag ? { FLAG: flag } : {}),
      // Flags a platform minted and sent with its start (FLAG, FLAGS) take the place of the challenge's own.
      ...(await platformFlagEnv(deps.db, row.id)),
    },
  });
  await Promise.all(
    workload.endpoints.map((e) =>
      deps.prober
        .waitForPort(
          { direct: e.direct, published: e.probeAt, http: e.protocol === "http" },
          config.START_TIMEOUT_SECONDS * 1000,
          () => exitOf(engine, row.id),
        )
        .catch((err: Error) => {
          throw new PermanentStartError(err.message);
        }),
    ),
  );
  return workload;
}

/** Why the instance's workloads no longer run, or null while they do. */
async function exitOf(engine: Engine, instanceId: string): Promise<string | null> {
  const seen = await engine.observe(instanceId);
  if (seen.state === "running") return null;
  return seen.state === "exited" ? seen.reason : "container vanished";
}

/** A small, bounded set of metric labels for failure reasons. */
function failureKind(reason: string): string {
  if (/image .* is not available/.test(reason)) return "image_missing";
  if (/before its port accepted/.test(reason)) return "exited";
  if (/did not accept connections/.test(reason)) return "port_timeout";
  if (/address pool|free host port/.test(reason)) return "capacity";
  return "docker_error";
}
