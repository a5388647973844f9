// What a benchmark runs on: the suite's Docker engine (ENGINE=docker, the default) or a swarm of the bench's own
// lab (ENGINE=swarm: a drained manager and two workers, the shared bridge set up). Each gives the instancer's stack
// options and the raw baseline on the same engine: start the same image with a published port, then take it away.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { deploymentContainers } from "../test/support/docker.ts";
import { testEnv } from "../test/support/env.ts";
import { LABEL } from "../worker/docker/labels.ts";
import { copyImage, labDown, swarmUp } from "../test/support/lab.ts";
import { SHARED_BRIDGE_CONFIG } from "../test/support/cluster.ts";
import type { StackOptions, TestStack } from "../test/support/stack.ts";
import { removeOverlay } from "../worker/swarm/networks.ts";
import { newestTask, nodeAddress, publishedPort, type SwarmNode, type SwarmTask } from "../worker/swarm/tasks.ts";

const run = promisify(execFile);
const BENCH_LAB = "bench";

export interface RawInstance {
  address: string;
  remove(): Promise<void>;
}

export interface Baseline {
  name: string;
  /** Starts one: where it answers, and how to remove it. `label` marks it for a final sweep. */
  start(label: string): Promise<RawInstance>;
}

export interface BenchTarget {
  name: string;
  stack: StackOptions;
  /** Made ready after the stack starts (the swarm's small nodes need small reservations to hold a burst). */
  prepare(stack: TestStack): Promise<void>;
  /** The raw baselines on the same engine; the first is the one the targets compare with. */
  baselines: Baseline[];
  /** The instance-id label of every workload (container or service) the deployment holds. */
  workloads(deployment: string): Promise<string[]>;
  close(): Promise<void>;
}

function dockerTarget(): BenchTarget {
  return {
    name: "docker",
    stack: {},
    prepare: async () => {},
    workloads: async (deployment) =>
      (await deploymentContainers(deployment)).map((c) => c.Labels[LABEL.instanceId] ?? ""),
    baselines: [
      {
        name: "raw docker run -d -p / rm -f",
        async start(label) {
          const args = ["run", "-d", "--label", label, "-p", `${testEnv.engineHost}::80`, testEnv.challengeImage];
          const id = (await run("docker", args)).stdout.trim();
          const port = (await run("docker", ["port", id, "80/tcp"])).stdout.trim().split(":").pop();
          return {
            address: `http://${testEnv.engineHost}:${port}`,
            remove: async () => void (await run("docker", ["rm", "-f", id])),
          };
        },
      },
    ],
    close: async () => {
      const { stdout } = await run("docker", ["ps", "-aq", "--filter", "label=org.ctf-instancer.bench"]);
      if (stdout.trim()) await run("docker", ["rm", "-f", ...stdout.trim().split("\n")]);
    },
  };
}

/**
 * `docker service create` of the image with a host-mode port, as the CLI sends it, then its task's address;
 * with `overlay`, on an overlay network of its own as each instance has (made before, removed after).
 */
async function rawService(manager: Docker, label: string, overlay: boolean): Promise<RawInstance> {
  const [key, value] = label.split("=") as [string, string];
  const network = overlay
    ? (await manager.createNetwork({ Name: `bench-${randomUUID()}`, Driver: "overlay", Labels: { [key]: value } })).id
    : null;
  const { id } = await manager.createService(undefined as unknown as Docker.AuthConfig, {
    Labels: { [key]: value },
    TaskTemplate: {
      ContainerSpec: { Image: testEnv.challengeImage },
      RestartPolicy: { Condition: "none" },
      Networks: network ? [{ Target: network }] : [],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Ports: [{ Protocol: "tcp", TargetPort: 80, PublishMode: "host" }] },
  });
  const remove = async () => {
    await manager.getService(id).remove();
    if (network) await removeOverlay(manager, network);
  };
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const task = newestTask((await manager.listTasks({ filters: { service: [id] } })) as SwarmTask[]);
    const port = task && publishedPort(task, 80);
    if (task?.NodeID && port) {
      const node = (await manager.getNode(task.NodeID).inspect()) as SwarmNode;
      return { address: `http://${nodeAddress(node)}:${port}`, remove };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await remove();
  throw new Error("the raw service's task did not run within 120 s");
}

async function swarmTarget(): Promise<BenchTarget> {
  const nodes = await swarmUp(BENCH_LAB, 3);
  for (const node of nodes.slice(1)) await copyImage(testEnv.challengeImage, node);
  const manager = nodes[0]!.docker;
  return {
    name: "swarm (manager + 2 workers)",
    stack: {
      docker: manager,
      env: { ENGINE: "swarm", SWARM_SHARED_BRIDGE: SHARED_BRIDGE_CONFIG, START_TIMEOUT_SECONDS: "120" },
    },
    // The same limits as on one engine, but a small CPU reservation: reserving 0.25 CPU each would fit only 16
    // instances on two 2-CPU nodes.
    prepare: async (stack) => {
      const res = await stack.request("PUT", "/challenges/web100", {
        body: {
          image: testEnv.challengeImage,
          port: 80,
          memory_mb: 64,
          cpus: 0.25,
          pids_limit: 64,
          cpus_reserved: 0.01,
        },
      });
      if (res.status !== 200) throw new Error(`challenge not saved: ${res.status}`);
    },
    baselines: [
      { name: "raw service create / rm (host port)", start: (label) => rawService(manager, label, false) },
      { name: "  the same on an overlay of its own", start: (label) => rawService(manager, label, true) },
    ],
    workloads: async (deployment) =>
      (await manager.listServices({ filters: { label: [`${LABEL.deployment}=${deployment}`] } })).map(
        (s) => s.Spec?.Labels?.[LABEL.instanceId] ?? "",
      ),
    close: () => labDown(BENCH_LAB),
  };
}

export const benchTarget = (): Promise<BenchTarget> =>
  process.env.ENGINE === "swarm" ? swarmTarget() : Promise.resolve(dockerTarget());
