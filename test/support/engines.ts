// The engines a suite runs on: the suite's own Docker engine, and a swarm of the file's own lab (a drained
// manager and two workers, one-container instances on the shared bridge). Suites whose checks hold for both are written once and run on each.
import { labDown } from "./lab.ts";
import type Docker from "dockerode";
import { docker as suiteDocker, deploymentContainers, execIn } from "./docker.ts";
import { clusterUp, SHARED_BRIDGE_CONFIG, taskOf } from "./cluster.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { TestStack, type StackOptions } from "./stack.ts";

export interface EngineUnderTest {
  /** Starts a test stack whose worker drives this engine. */
  start(opts?: StackOptions): Promise<TestStack>;
  /** The labels of every workload (container or service) a deployment holds. */
  workloads(deployment: string): Promise<Record<string, string>[]>;
  /** One container of an instance, wherever it runs: its addresses, and a way to run a command in it. */
  container(instanceId: string, name: string): Promise<RunningContainer>;
  close(): Promise<void>;
}

export interface RunningContainer {
  addresses: string[];
  exec(cmd: string[]): Promise<{ code: number; out: string }>;
}

function running(engine: Docker, info: Docker.ContainerInspectInfo): RunningContainer {
  return {
    addresses: Object.values(info.NetworkSettings.Networks).map((n) => n.IPAddress),
    exec: (cmd) => execIn(engine, info.Id, cmd),
  };
}

const containerFilter = (instanceId: string, name: string) => ({
  label: [`${LABEL.instanceId}=${instanceId}`, `${LABEL.container}=${name}`],
});

export interface EngineChoice {
  name: "docker" | "swarm";
  up(): Promise<EngineUnderTest>;
}

const docker: EngineChoice = {
  name: "docker",
  up: async () => ({
    start: (opts) => TestStack.start(opts),
    workloads: async (deployment) => (await deploymentContainers(deployment)).map((c) => c.Labels),
    async container(instanceId, name) {
      const [found] = await suiteDocker.listContainers({ filters: containerFilter(instanceId, name) });
      if (!found) throw new Error(`no container ${name} of instance ${instanceId}`);
      return running(suiteDocker, await suiteDocker.getContainer(found.Id).inspect());
    },
    close: async () => {},
  }),
};

/** `lab`: the file's own lab name (1–6 characters), since files run in parallel. */
const swarm = (lab: string): EngineChoice => ({
  name: "swarm",
  async up() {
    const cluster = await clusterUp(lab, 3);
    const manager = cluster.manager.docker;
    return {
      start: (opts = {}) =>
        TestStack.start({
          ...opts,
          docker: manager,
          env: { ENGINE: "swarm", SWARM_SHARED_BRIDGE: SHARED_BRIDGE_CONFIG, ...opts.env },
        }),
      workloads: async (deployment) =>
        (await manager.listServices({ filters: { label: [`${LABEL.deployment}=${deployment}`] } })).map(
          (s) => s.Spec?.Labels ?? {},
        ),
      async container(instanceId, name) {
        const [service] = await manager.listServices({ filters: containerFilter(instanceId, name) });
        if (!service) throw new Error(`no service ${name} of instance ${instanceId}`);
        const { task, node } = await taskOf(cluster, service.ID!);
        const id = task.Status.ContainerStatus!.ContainerID!;
        return running(node.docker, await node.docker.getContainer(id).inspect());
      },
      close: () => labDown(lab),
    };
  },
});

export const engines = (lab: string): EngineChoice[] => [docker, swarm(lab)];
