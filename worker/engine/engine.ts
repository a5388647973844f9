import type { ContainerDef, Exposure } from "../../domain/challenge-shape.ts";
import type { ChallengeRow } from "../../domain/challenges.ts";
import type { EngineFacts } from "../../domain/engine-report.ts";

/**
 * What runs the instances. Processors, reconciliation and the death watch speak only to this, so the engine
 * behind it (one Docker host today) can change without them.
 */
export interface Engine {
  /**
   * Makes the instance's network and its containers and starts them, reusing what an earlier attempt already
   * made; resolves once every container runs, with where each exposure answers.
   */
  start(plan: StartPlan): Promise<StartedWorkload>;
  /** What the instance's workloads are doing now: exited as soon as one of them has. */
  observe(instanceId: string): Promise<Observation>;
  /** Stops (with a grace period) and removes the instance's workloads; how many there were. Missing is fine. */
  removeWorkload(instanceId: string, graceSeconds: number): Promise<number>;
  /** Removes the instance's network, once no workload holds it. Missing is fine. */
  removeNetwork(instanceId: string): Promise<void>;
  /** Removes one listed object whatever its labels say (a malformed instance id names no instance). */
  removeObject(object: EngineObject): Promise<void>;
  /** Every object of this deployment that carries an instance-id label. */
  listOurs(): Promise<OurObjects>;
  /** Calls `onDeath` when a workload of this deployment stops, and `onResume` when the feed comes back. */
  watchDeaths(handlers: DeathHandlers): Promise<{ close(): void }>;
  /** The images and CPUs the engine has, for the API's admission checks. */
  facts(): Promise<EngineFacts>;
  /** How to treat a failed start: try again, wait for the engine to come back, or give up. */
  classify(err: unknown): FailureKind;
}

/** The labels every object of an instance carries: they tie engine objects back to rows and requests. */
export interface InstanceLabels {
  deployment: string;
  instanceId: string;
  teamId: string;
  challengeId: string;
  requestId: string;
}

export interface StartPlan {
  labels: InstanceLabels;
  /** Instance-wide settings: egress, placement, reservations. */
  challenge: ChallengeRow;
  /** Every container, settings resolved (`containersOf`), and what the instance exposes. */
  containers: ContainerDef[];
  exposures: Exposure[];
  /** Added to every container's environment (team, instance, flag). */
  env: Record<string, string>;
  /** The host address published ports are bound to. */
  bindAddress: string;
  /** Capabilities the operator allows; the challenge's cap_add is intersected with it. */
  allowedCapabilities: readonly string[];
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface StartedEndpoint extends Exposure {
  /** Where players reach it. */
  answersAt: Endpoint;
  /** Where this worker reaches the same published port, to see that it serves. */
  probeAt: Endpoint;
  /** The container's own address, which the worker may be able to route to: the exact answer when it can. */
  direct: Endpoint | null;
}

export interface StartedWorkload {
  /** The engine's id of the first exposure's workload (the row's container_id). */
  ref: string;
  /** One per exposure, in the challenge's order. */
  endpoints: StartedEndpoint[];
}

/**
 * `running` also covers a workload made but not started yet: only an exit is a death. `movable`: the workload did
 * not fail itself, its node went away (lost or drained), so the instance may start again elsewhere.
 */
export type Observation =
  { state: "running" } | { state: "exited"; reason: string; movable?: boolean } | { state: "missing" };

export interface EngineObject {
  kind: "workload" | "network";
  ref: string;
  /** The instance-id label as found: it may be malformed. */
  instanceId: string;
}

export interface OurObjects {
  /** Each with what the listing saw; a listing ages, so look again before acting on one that is not running. */
  workloads: (EngineObject & { seen: Exclude<Observation, { state: "missing" }> })[];
  networks: EngineObject[];
}

export interface DeathHandlers {
  onDeath(instanceId: string, reason: string, movable?: boolean): Promise<void>;
  /** The feed was broken and is back: deaths in the gap may be missed, so look at everything again. */
  onResume(): Promise<unknown>;
}

/** `unreachable`: the engine does not answer at all (restarting); the start waits for it to come back. */
export type FailureKind = "transient" | "unreachable" | "permanent";

/** A failure that retrying cannot fix (missing image, port never opened): the instance is marked failed. */
export class PermanentStartError extends Error {
  override name = "PermanentStartError";
}

/** Everything an instance holds, workload then network. */
export async function removeInstance(engine: Engine, instanceId: string, graceSeconds: number): Promise<number> {
  const removed = await engine.removeWorkload(instanceId, graceSeconds);
  await engine.removeNetwork(instanceId);
  return removed;
}
