import type Docker from "dockerode";
import type { Observation } from "../engine/engine.ts";

/** The parts of a Swarm task this worker reads. */
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: {
    State?: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ExitCode?: number };
    PortStatus?: { Ports?: { TargetPort?: number; PublishedPort?: number }[] };
  };
}

/** The parts of a Swarm node this worker reads. */
export interface SwarmNode {
  ID: string;
  Spec?: { Availability?: string; Labels?: Record<string, string> };
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number } };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

/** Node label naming the host players use for ports on that node (else the node's address). */
export const PUBLIC_HOST_LABEL = "org.ctf-instancer.public-host";

const ENDED = new Set(["complete", "failed", "shutdown", "rejected", "orphaned", "remove"]);

/** A service's newest task: with one replica and no restart policy, the one that tells how the instance is. */
export function newestTask(tasks: SwarmTask[]): SwarmTask | null {
  return tasks.reduce<SwarmTask | null>(
    (newest, t) => (!newest || (t.CreatedAt ?? "") > (newest.CreatedAt ?? "") ? t : newest),
    null,
  );
}

export const nodeName = (node: SwarmNode | undefined) => node?.Description?.Hostname ?? node?.ID ?? "unknown";

/** Every node of the swarm by its id. */
export async function nodesById(docker: Docker): Promise<Map<string, SwarmNode>> {
  return new Map(((await docker.listNodes()) as SwarmNode[]).map((n) => [n.ID, n]));
}

/** Where a node's published ports answer for this worker: its address in the swarm. */
export function nodeAddress(node: SwarmNode): string {
  const addr = node.Status?.Addr;
  if (addr && addr !== "0.0.0.0") return addr;
  // A manager listening on every address may report 0.0.0.0; its manager address names it.
  return node.ManagerStatus?.Addr?.replace(/:\d+$/, "") ?? addr ?? "";
}

/** What players are given for ports on this node. */
export const nodePublicHost = (node: SwarmNode) => node.Spec?.Labels?.[PUBLIC_HOST_LABEL] || nodeAddress(node);

/** The task's published port for `targetPort`, once the node has bound it. */
export function publishedPort(task: SwarmTask, targetPort: number): number | null {
  const port = task.Status?.PortStatus?.Ports?.find((p) => p.TargetPort === targetPort && p.PublishedPort);
  return port?.PublishedPort ?? null;
}

/**
 * How an instance is, from its service's newest task and that task's node. A task on a node that is down still
 * says `running` (only its desired state changes), so the node is read too. Restart policy none means Swarm
 * never replaces a task lost with its node: such a death is `movable`, the instance may start elsewhere.
 */
export function observeTask(task: SwarmTask | null, node: SwarmNode | undefined): Observation {
  if (!task) return { state: "running" }; // created, not scheduled yet
  const state = task.Status?.State ?? "new";
  const where = nodeName(node);
  if (state === "orphaned") return { state: "exited", reason: `node lost (${where})`, movable: true };
  if (ENDED.has(state)) return { state: "exited", reason: taskEndReason(task) };
  if (node?.Status?.State === "down" || node?.Status?.State === "disconnected")
    return { state: "exited", reason: `node lost (${where})`, movable: true };
  if (node?.Spec?.Availability === "drain")
    return { state: "exited", reason: `node drained (${where})`, movable: true };
  if (task.DesiredState && !["running", "ready", "accepted"].includes(task.DesiredState))
    return { state: "exited", reason: `task stopped by the swarm (${task.Status?.Message ?? state})` };
  return { state: "running" };
}

function taskEndReason(task: SwarmTask): string {
  const state = task.Status?.State ?? "ended";
  const code = task.Status?.ContainerStatus?.ExitCode;
  if (state === "complete") return `container exited (exit code ${code ?? 0})`;
  const detail = task.Status?.Err || task.Status?.Message || state;
  return state === "failed" && code !== undefined
    ? `container exited (exit code ${code}): ${detail}`
    : `task ${state}: ${detail}`;
}

/** True while the scheduler still has the task waiting for a node. */
export const isUnscheduled = (task: SwarmTask | null) =>
  !task || ["new", "pending", "allocated"].includes(task.Status?.State ?? "new");
