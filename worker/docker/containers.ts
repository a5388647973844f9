import type Docker from "dockerode";
import { PermanentStartError, type StartPlan } from "../engine/engine.ts";
import { isConflict, isNotFound, isNotModified, isStaleAttachment } from "./errors.ts";
import { instanceFilter, instanceLabels, instanceObjectName } from "./labels.ts";

/** A start, on the instance's network. */
export interface ContainerPlan extends StartPlan {
  network: string;
}

const portKey = (port: number) => `${port}/tcp`;

/**
 * Hardened by default: its own network, no capabilities but the allowed ones asked for, no privilege gain,
 * bounded memory (no swap), CPU, PIDs and logs, an init process, and optionally a read-only root.
 */
export function containerSpec(plan: ContainerPlan): Docker.ContainerCreateOptions {
  const { challenge } = plan;
  const memory = challenge.memory_mb * 1024 * 1024;
  const capAdd = challenge.cap_add.filter((c) => plan.allowedCapabilities.includes(c));
  return {
    name: instanceObjectName(plan.labels.deployment, plan.labels.instanceId),
    Image: challenge.image,
    Env: Object.entries({ ...challenge.env, ...plan.env }).map(([k, v]) => `${k}=${v}`),
    Labels: instanceLabels(plan.labels),
    ExposedPorts: { [portKey(challenge.port)]: {} },
    HostConfig: {
      // HostPort "" lets the engine pick a free ephemeral port; it is read back after start.
      PortBindings: { [portKey(challenge.port)]: [{ HostIp: plan.bindAddress, HostPort: "" }] },
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(challenge.cpus * 1e9),
      PidsLimit: challenge.pids_limit,
      NetworkMode: plan.network,
      CapDrop: ["ALL"],
      CapAdd: capAdd,
      SecurityOpt: ["no-new-privileges:true"],
      Init: true,
      ReadonlyRootfs: challenge.read_only,
      Tmpfs: challenge.read_only ? { "/tmp": "rw,noexec,nosuid,nodev,size=64m" } : undefined,
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
    },
  };
}

/** Creates the instance's container, or returns the one a previous attempt already created. */
async function createOrReuse(docker: Docker, plan: ContainerPlan): Promise<Docker.Container> {
  const spec = containerSpec(plan);
  try {
    return await docker.createContainer(spec);
  } catch (err) {
    if (isConflict(err)) return docker.getContainer(spec.name!);
    if (isNotFound(err))
      throw new PermanentStartError(`image '${plan.challenge.image}' is not available on the engine`);
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
      .disconnect({ Container: instanceObjectName(plan.labels.deployment, plan.labels.instanceId), Force: true })
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
  const exited = exitReason(info.State);
  throw new PermanentStartError(
    exited
      ? `${exited} before its port accepted connections`
      : `the engine published no host port for ${portKey(port)}`,
  );
}

function exitReason(state: Docker.ContainerInspectInfo["State"]): string | null {
  if (state.Running || state.Status === "created") return null;
  return `container ${state.Status} (exit code ${state.ExitCode}${state.OOMKilled ? ", out of memory" : ""})`;
}

export async function containerExit(container: Docker.Container): Promise<string | null> {
  return exitReason((await container.inspect()).State);
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
