import type Docker from "dockerode";
import { containerWord, MAIN_CONTAINER, type ContainerDef } from "../../domain/challenge-shape.ts";
import { PermanentStartError, type Observation, type StartPlan } from "../engine/engine.ts";
import { isConflict, isNotFound, isNotModified, isStaleAttachment } from "./errors.ts";
import { containerLabels, containerObjectName, instanceFilter, LABEL } from "./labels.ts";

/** One container of a start, on the instance's network. */
export interface ContainerPlan extends StartPlan {
  network: string;
  def: ContainerDef;
}

const portKey = (port: number) => `${port}/tcp`;

/**
 * Hardened by default: the instance's own network (where the others reach it by its name), no capabilities but
 * the allowed ones asked for, no privilege gain, bounded memory (no swap), CPU, PIDs and logs, an init process,
 * and optionally a read-only root. Only its exposed ports are published.
 */
export function containerSpec(plan: ContainerPlan): Docker.ContainerCreateOptions {
  const { def } = plan;
  const memory = def.memory_mb * 1024 * 1024;
  const ports = plan.exposures.filter((e) => e.container === def.name).map((e) => portKey(e.port));
  return {
    name: containerObjectName(plan.labels.deployment, plan.labels.instanceId, def.name),
    Image: def.image,
    Cmd: def.command ?? undefined,
    Env: Object.entries({ ...def.env, ...plan.env }).map(([k, v]) => `${k}=${v}`),
    Labels: containerLabels(plan.labels, def.name),
    ExposedPorts: Object.fromEntries(ports.map((p) => [p, {}])),
    HostConfig: {
      // HostPort "" lets the engine pick a free ephemeral port; it is read back after start.
      PortBindings: Object.fromEntries(ports.map((p) => [p, [{ HostIp: plan.bindAddress, HostPort: "" }]])),
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(def.cpus * 1e9),
      PidsLimit: def.pids_limit,
      NetworkMode: plan.network,
      CapDrop: ["ALL"],
      CapAdd: def.cap_add.filter((c) => plan.allowedCapabilities.includes(c)),
      SecurityOpt: ["no-new-privileges:true"],
      Init: true,
      ReadonlyRootfs: def.read_only,
      Tmpfs: def.read_only ? { "/tmp": "rw,noexec,nosuid,nodev,size=64m" } : undefined,
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
    },
    NetworkingConfig: { EndpointsConfig: { [plan.network]: { Aliases: [def.name] } } },
  };
}

/** Creates the instance's container, or returns the one a previous attempt already created. */
async function createOrReuse(docker: Docker, plan: ContainerPlan): Promise<Docker.Container> {
  const spec = containerSpec(plan);
  try {
    return await docker.createContainer(spec);
  } catch (err) {
    if (isConflict(err)) return docker.getContainer(spec.name!);
    if (isNotFound(err)) throw new PermanentStartError(`image '${plan.def.image}' is not available on the engine`);
    throw err;
  }
}

/** Ports come from the engine's ephemeral range; running out of them is a capacity problem, not a bug. */
export function portCapacityError(err: unknown): PermanentStartError | null {
  return /all ports are allocated|port is already allocated|no available ports/i.test(String(err))
    ? new PermanentStartError("the Docker engine has no free host port left for another instance")
    : null;
}

export async function startIfNeeded(container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    if (isNotModified(err)) return;
    throw portCapacityError(err) ?? err;
  }
}

/**
 * Creates (or reuses) the instance's container and starts it. A reused container whose network attachment went
 * stale is removed, its leftover endpoint deleted, and the container made anew.
 */
export async function createAndStart(docker: Docker, plan: ContainerPlan): Promise<Docker.Container> {
  const container = await createOrReuse(docker, plan);
  try {
    await startIfNeeded(container);
    return container;
  } catch (err) {
    if (!isStaleAttachment(err)) throw err;
    await container.remove({ force: true });
    // Only once no container has the name does a forced disconnect delete the network's endpoint of that name
    // (for an existing container it just edits the container's settings). None left is fine.
    await docker
      .getNetwork(plan.network)
      .disconnect({
        Container: containerObjectName(plan.labels.deployment, plan.labels.instanceId, plan.def.name),
        Force: true,
      })
      .catch(() => {});
    const fresh = await createOrReuse(docker, plan);
    await startIfNeeded(fresh);
    return fresh;
  }
}

/** The host port the engine bound for `port`, and the container's own address, once the container runs. */
export async function addresses(
  container: Docker.Container,
  port: number,
): Promise<{ hostPort: number; containerIp: string | null }> {
  const info = await container.inspect();
  const binding = info.NetworkSettings.Ports?.[portKey(port)]?.[0];
  const hostPort = Number(binding?.HostPort);
  const containerIp = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? null;
  if (Number.isInteger(hostPort) && hostPort > 0) return { hostPort, containerIp };
  // A container that already exited has no bindings left; its exit is the real reason.
  const exited = exitReason(info.State, info.Config.Labels[LABEL.container] ?? MAIN_CONTAINER);
  throw new PermanentStartError(
    exited
      ? `${exited} before its port accepted connections`
      : `the engine published no host port for ${portKey(port)}`,
  );
}

/** Why a container no longer runs, naming it unless it is the single form's one container. */
function exitReason(state: Docker.ContainerInspectInfo["State"], name = MAIN_CONTAINER): string | null {
  if (state.Running || state.Status === "created") return null;
  return `${containerWord(name)} ${state.Status} (exit code ${state.ExitCode}${state.OOMKilled ? ", out of memory" : ""})`;
}

/**
 * How an instance's containers are: the first one that stopped says why, none at all is missing. Each is
 * inspected: the listing's state lags (a container still shows running there when its `die` event arrives). A
 * container seen in the listing may be gone by its inspection: that is an exit too.
 */
export async function instanceExit(docker: Docker, deployment: string, instanceId: string): Promise<Observation> {
  const found = await docker.listContainers({ all: true, filters: instanceFilter(deployment, instanceId) });
  if (found.length === 0) return { state: "missing" };
  for (const info of found) {
    const name = info.Labels[LABEL.container] ?? MAIN_CONTAINER;
    const state = await docker
      .getContainer(info.Id)
      .inspect()
      .then((i) => i.State)
      .catch((err: unknown) => {
        if (isNotFound(err)) return null;
        throw err;
      });
    const reason = state ? exitReason(state, name) : `container '${name}' vanished`;
    if (reason) return { state: "exited", reason };
  }
  return { state: "running" };
}

/** Stops (with a grace period) and removes every container of an instance; missing ones are fine. */
export async function removeInstanceContainers(
  docker: Docker,
  deployment: string,
  instanceId: string,
  stopTimeoutSeconds: number,
): Promise<number> {
  const found = await docker.listContainers({ all: true, filters: instanceFilter(deployment, instanceId) });
  for (const info of found) {
    const container = docker.getContainer(info.Id);
    if (info.State === "running") {
      await container.stop({ t: stopTimeoutSeconds }).catch((err: unknown) => {
        if (!isNotModified(err) && !isNotFound(err)) throw err;
      });
    }
    await container.remove({ force: true, v: true }).catch((err: unknown) => {
      if (!isNotFound(err) && !isConflictRemoval(err)) throw err;
    });
  }
  return found.length;
}

// 409 "removal already in progress" means another attempt is finishing the same removal.
const isConflictRemoval = (err: unknown) => isConflict(err) && /already in progress/i.test(String(err));
