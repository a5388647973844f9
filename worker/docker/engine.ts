import type Docker from "dockerode";
import type { EngineFacts } from "../../domain/engine-report.ts";
import type { Logger } from "../../infra/logger.ts";
import {
  type DeathHandlers,
  type Engine,
  type EngineObject,
  type FailureKind,
  type Observation,
  type OurObjects,
  type StartedWorkload,
  type StartPlan,
} from "../engine/engine.ts";
import { addresses, createAndStart, instanceExit, removeInstanceContainers } from "./containers.ts";
import { classifyDockerFailure } from "./errors.ts";
import { DockerEventWatcher } from "./events.ts";
import { engineImageRefs } from "./images.ts";
import { instanceObjectName, LABEL } from "./labels.ts";
import { ensureInstanceNetwork, removeNetwork } from "./networks.ts";

export interface DockerEngineOptions {
  docker: Docker;
  deployment: string;
  /** The host players are given: published ports are on this one engine's host. */
  publicHost: string;
  /** The host this worker reaches those published ports at. */
  probeHost: string;
  logger: Logger;
}

/** One Docker engine: each instance is one container on a bridge network of its own. */
export class DockerEngine implements Engine {
  private readonly docker: Docker;
  private readonly deployment: string;
  private readonly publicHost: string;
  private readonly probeHost: string;
  private readonly logger: Logger;

  constructor(opts: DockerEngineOptions) {
    this.docker = opts.docker;
    this.deployment = opts.deployment;
    this.publicHost = opts.publicHost;
    this.probeHost = opts.probeHost;
    this.logger = opts.logger;
  }

  /** Every container at once (an app retries what it needs, as with Compose); any failure fails the start. */
  async start(plan: StartPlan): Promise<StartedWorkload> {
    const network = await ensureInstanceNetwork(this.docker, plan.labels, plan.challenge.egress);
    const containers = new Map(
      await Promise.all(
        plan.containers.map(
          async (def) => [def.name, await createAndStart(this.docker, { ...plan, network, def })] as const,
        ),
      ),
    );
    const endpoints = await Promise.all(
      plan.exposures.map(async (exposure) => {
        const { hostPort, containerIp } = await addresses(containers.get(exposure.container)!, exposure.port);
        return {
          ...exposure,
          answersAt: { host: this.publicHost, port: hostPort },
          probeAt: { host: this.probeHost, port: hostPort },
          direct: containerIp ? { host: containerIp, port: exposure.port } : null,
        };
      }),
    );
    return { ref: containers.get(plan.exposures[0]!.container)!.id, endpoints };
  }

  observe(instanceId: string): Promise<Observation> {
    return instanceExit(this.docker, this.deployment, instanceId);
  }

  removeWorkload(instanceId: string, graceSeconds: number): Promise<number> {
    return removeInstanceContainers(this.docker, this.deployment, instanceId, graceSeconds);
  }

  removeNetwork(instanceId: string): Promise<void> {
    return removeNetwork(this.docker, instanceObjectName(this.deployment, instanceId));
  }

  async removeObject(object: EngineObject): Promise<void> {
    if (object.kind === "network") await removeNetwork(this.docker, object.ref);
    else await this.docker.getContainer(object.ref).remove({ force: true, v: true });
  }

  async listOurs(): Promise<OurObjects> {
    const scope = { label: [`${LABEL.deployment}=${this.deployment}`] };
    const containers = await this.docker.listContainers({ all: true, filters: scope });
    const networks = await this.docker.listNetworks({ filters: scope });
    const ours = <T extends { Labels?: Record<string, string> }>(list: T[]) =>
      list.filter((o) => o.Labels?.[LABEL.instanceId]);
    return {
      workloads: ours(containers).map((c) => ({
        kind: "workload",
        ref: c.Id,
        instanceId: c.Labels[LABEL.instanceId]!,
        seen:
          c.State === "running"
            ? { state: "running" }
            : { state: "exited", reason: `container ${c.State} (${c.Status})` },
      })),
      networks: ours(networks).map((n) => ({ kind: "network", ref: n.Id, instanceId: n.Labels![LABEL.instanceId]! })),
    };
  }

  async watchDeaths(handlers: DeathHandlers): Promise<{ close(): void }> {
    const watcher = new DockerEventWatcher({
      docker: this.docker,
      deployment: this.deployment,
      logger: this.logger,
      onDie: (instanceId, exitCode) => handlers.onDeath(instanceId, `container exited (exit code ${exitCode})`),
      onReconnect: handlers.onResume,
    });
    await watcher.start();
    return watcher;
  }

  async facts(): Promise<EngineFacts> {
    return {
      refs: await engineImageRefs(this.docker),
      cpus: ((await this.docker.info()) as { NCPU: number }).NCPU,
    };
  }

  classify(err: unknown): FailureKind {
    return classifyDockerFailure(err);
  }
}
