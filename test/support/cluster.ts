// A test cluster: a swarm of private engines (test/support/lab.ts), its manager (node 1) drained, optionally one
// node with egress, and the sample challenge image loaded on every worker node (no registry is reachable).
import type Docker from "dockerode";
import { expect } from "vitest";
import { copyImage, swarmUp, type LabEngine } from "./lab.ts";
import { testEnv } from "./env.ts";
import { execIn } from "./docker.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import type { TestStack } from "./stack.ts";

/** The config-only network every lab node has (engine-lab.sh), for SWARM_SHARED_BRIDGE. */
export const SHARED_BRIDGE_CONFIG = "ctfi-shared";

export interface Cluster {
  manager: LabEngine;
  nodes: LabEngine[];
  /** Node engines by their swarm node id. */
  byNodeId: Map<string, LabEngine>;
  hostname(index: number): string;
}

export async function clusterUp(lab: string, count: number, egressNode?: number): Promise<Cluster> {
  const nodes = await swarmUp(lab, count, egressNode);
  for (const node of nodes.slice(1)) await copyImage(testEnv.challengeImage, node);
  const byNodeId = new Map<string, LabEngine>();
  for (const node of nodes)
    byNodeId.set(((await node.docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID, node);
  return { manager: nodes[0]!, nodes, byNodeId, hostname: (i) => `ctfi-${lab}-${i}` };
}

interface Task {
  ID: string;
  NodeID: string;
  CreatedAt: string;
  DesiredState: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}

/** The newest task of an instance's service, and the node engine that runs it. */
export async function taskOf(cluster: Cluster, serviceId: string): Promise<{ task: Task; node: LabEngine }> {
  const tasks = (await cluster.manager.docker.listTasks({ filters: { service: [serviceId] } })) as Task[];
  const task = tasks.sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt))[0]!;
  return { task, node: cluster.byNodeId.get(task.NodeID)! };
}

/** The container of an instance, on its node. */
export async function containerOf(cluster: Cluster, serviceId: string) {
  const { task, node } = await taskOf(cluster, serviceId);
  const id = task.Status.ContainerStatus!.ContainerID!;
  return {
    node,
    id,
    info: await node.docker.getContainer(id).inspect(),
    exec: (cmd: string[]) => execIn(node.docker, id, cmd),
  };
}

export async function assigned(stack: TestStack, team: string, challenge: string) {
  const res = await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: challenge } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const row = await stack.api.deps.db.query("SELECT * FROM instances WHERE id = $1", [res.body.instance_id]);
  return { answer: res.body, row: row.rows[0] };
}

/** Everything of a deployment the cluster still holds: services and networks on the manager, containers anywhere. */
export async function leftovers(cluster: Cluster, deployment: string, labels: string[] = []): Promise<string[]> {
  const filters = { label: [`${LABEL.deployment}=${deployment}`, ...labels] };
  const found: string[] = [];
  const m = cluster.manager.docker;
  for (const s of await m.listServices({ filters })) found.push(`service ${s.Spec?.Name}`);
  for (const n of await m.listNetworks({ filters })) found.push(`network ${n.Name}`);
  for (const node of cluster.nodes)
    for (const c of await node.docker.listContainers({ all: true, filters })) found.push(`container ${c.Names[0]}`);
  return found;
}

export async function eventually<T>(what: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export type { Docker };
