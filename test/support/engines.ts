// The engines a suite runs on: the suite's own Docker engine, and a swarm of the file's own lab (a drained
// manager and two workers). Suites whose checks hold for both are written once and run on each.
import { labDown } from "./lab.ts";
import { deploymentContainers } from "./docker.ts";
import { clusterUp } from "./cluster.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { TestStack, type StackOptions } from "./stack.ts";

export interface EngineUnderTest {
  /** Starts a test stack whose worker drives this engine. */
  start(opts?: StackOptions): Promise<TestStack>;
  /** The labels of every workload (container or service) a deployment holds. */
  workloads(deployment: string): Promise<Record<string, string>[]>;
  close(): Promise<void>;
}

export interface EngineChoice {
  name: "docker" | "swarm";
  up(): Promise<EngineUnderTest>;
}

const docker: EngineChoice = {
  name: "docker",
  up: async () => ({
    start: (opts) => TestStack.start(opts),
    workloads: async (deployment) => (await deploymentContainers(deployment)).map((c) => c.Labels),
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
      start: (opts = {}) => TestStack.start({ ...opts, docker: manager, env: { ENGINE: "swarm", ...opts.env } }),
      workloads: async (deployment) =>
        (await manager.listServices({ filters: { label: [`${LABEL.deployment}=${deployment}`] } })).map(
          (s) => s.Spec?.Labels ?? {},
        ),
      close: () => labDown(lab),
    };
  },
});

export const engines = (lab: string): EngineChoice[] => [docker, swarm(lab)];
