import type Docker from "dockerode";
import type { EngineFacts } from "../../domain/engine-report.ts";
import type { Logger } from "../../infra/logger.ts";
import {
  PermanentStartError,
  type DeathHandlers,
  type Engine,
  type EngineObject,
  type FailureKind,
  type Observation,
  type OurObjects,
  type StartedWorkload,
  type StartPlan,
} from "../engine/engine.ts";
import { classifyDockerFailure, isConflict, isNotFound } from "../docker/errors.ts";
import { instanceFilter, instanceObjectName, LABEL } from "../docker/labels.ts";
import { containerWord, MAIN_CONTAINER } from "../../domain/challenge-shape.ts";
import { SwarmDeathWatch } from "./death-watch.ts";
import { registryOf, type RegistryAuth } from "./registry-auth.ts";
import { ensureOverlay, removeOverlay } from "./networks.ts";
import { ensureSharedBridge, fitsSharedBridge, missingConfigReason } from "./shared-bridge.ts";
import { serviceSpec, type ServicePlan } from "./service-spec.ts";
import { StartPoller } from "./start-poller.ts";
import {
  isUnscheduled,
  newestTask,
  nodesById,
  nodeAddress,
  nodeName,
  nodePublicHost,
  observeTask,
  publishedPort,
  type SwarmNode,
  type SwarmTask,
} from "./tasks.ts";

export interface SwarmEngineOptions {
  /** A client of a manager node. */
  docker: Docker;
  deployment: string;
  /** How long a task may take to be placed and run before the start fails. */
  startTimeoutSeconds: number;
  /** The stop grace period of every instance's task. */
  stopGraceSeconds: number;
  logger: Logger;
  /** How often the death watch looks at every service (the manager has no task events on 20.10). */
  pollMs?: number;
  /** Credentials by registry (REGISTRY_AUTH_FILE), sent with each service create for the image's registry. */
  registryAuths?: Map<string, RegistryAuth>;
  /** SWARM_SHARED_BRIDGE and the swarm network made from it (shared-bridge.ts), for instances that fit it. */
  sharedBridge?: { config: string; network: string };
}

/** One service's state as a survey of the swarm saw it. */
export interface SurveyEntry {
  serviceId: string;
  instanceId: string;
  task: SwarmTask | null;
  seen: Observation;
}

/**
 * A Docker Swarm cluster, through one manager: each container of an instance is one single-replica service, on an
 * overlay network of the instance's own or, for one container, on the shared bridge when there is one; its ports
 * are published in host mode on whichever node runs it, and its address names that node.
 */
export class SwarmEngine implements Engine {
  private readonly docker: Docker;
  private readonly opts: SwarmEngineOptions;
  private readonly starts: StartPoller;

  constructor(opts: SwarmEngineOptions) {
    this.docker = opts.docker;
    this.opts = opts;
    this.starts = new StartPoller(opts.docker);
  }

  /** One service per container, all at once; resolves when every task runs with its ports bound. */
  async start(plan: StartPlan): Promise<StartedWorkload> {
    const shared = this.opts.sharedBridge;
    const network = shared && fitsSharedBridge(plan) ? shared.network : await ensureOverlay(this.docker, plan.labels);
    const running = new Map(
      await Promise.all(
        plan.containers.map(async (def) => {
          const servicePlan = { ...plan, network, def, stopGraceSeconds: this.opts.stopGraceSeconds };
          const serviceId = await this.createOrReuse(servicePlan);
          return [def.name, { serviceId, ...(await this.runningTask(serviceId, servicePlan)) }] as const;
        }),
      ),
    );
    const endpoints = plan.exposures.map((exposure) => {
      const { task, node } = running.get(exposure.container)!;
      const port = publishedPort(task, exposure.port)!;
      return {
        ...exposure,
        answersAt: { host: nodePublicHost(node), port },
        probeAt: { host: nodeAddress(node), port },
        // The task's own address (overlay, or a node's shared bridge) is not routable from the worker.
        direct: null,
      };
    });
    return { ref: running.get(plan.exposures[0]!.container)!.serviceId, endpoints };
  }

  /** The container's service: made now, or the one an earlier attempt made if its task still lives. */
  private async createOrReuse(plan: ServicePlan): Promise<string> {
    const spec = serviceSpec(plan);
    const create = async () => {
      // Two arguments always: with one, dockerode would send the spec itself as the registry credentials.
      const auth = this.opts.registryAuths?.get(registryOf(plan.def.image));
      return (await this.docker.createService(auth as Docker.AuthConfig, spec)).id;
    };
    try {
      return await create();
    } catch (err) {
      if (this.sharedBridgeGone(plan, err)) {
        await ensureSharedBridge(this.docker, this.opts.sharedBridge!.config);
        return create();
      }
      if (!isConflict(err)) throw err;
    }
    const existing = (await this.docker.getService(spec.Name!).inspect()) as { ID: string };
    if ((await this.observeService(existing.ID)).state === "running") return existing.ID;
    // Its task ended (a restart after a death): a service without restart policy never runs again, so anew.
    await this.removeService(existing.ID);
    return create();
  }

  /** The shared bridge was removed under the running worker (a network prune on the manager): made again. */
  private sharedBridgeGone(plan: ServicePlan, err: unknown): boolean {
    // The manager answers 500, "network … not found".
    return (
      plan.network === this.opts.sharedBridge?.network && String(err).includes(`network ${plan.network} not found`)
    );
  }

  /** Waits until the service's task runs with its ports bound, or fails with the swarm's reason. */
  private async runningTask(serviceId: string, plan: ServicePlan): Promise<{ task: SwarmTask; node: SwarmNode }> {
    const deadline = Date.now() + this.opts.startTimeoutSeconds * 1000;
    const ports = plan.exposures.filter((e) => e.container === plan.def.name).map((e) => e.port);
    for (;;) {
      const { task, node } = await this.starts.next(serviceId);
      if (task && node && task.Status?.State === "running" && ports.every((p) => publishedPort(task, p)))
        return { task, node };
      const seen = named(observeTask(task, node), plan.def.name);
      if (seen.state === "exited") throw new PermanentStartError(startFailure(plan, seen.reason, node));
      if (Date.now() >= deadline) {
        const timeout = this.opts.startTimeoutSeconds;
        throw new PermanentStartError(
          isUnscheduled(task)
            ? `no node satisfies the challenge's placement and reservations within ${timeout}s: ${task?.Status?.Err ?? "task not scheduled"}`
            : `the task did not run within ${timeout}s (state ${task?.Status?.State} on node ${nodeName(node)})`,
        );
      }
    }
  }

  /** The instance's services: the first whose task ended (or whose node went away) says why. */
  async observe(instanceId: string): Promise<Observation> {
    const services = await this.docker.listServices({ filters: instanceFilter(this.opts.deployment, instanceId) });
    if (services.length === 0) return { state: "missing" };
    for (const s of services) {
      const seen = named(await this.observeService(s.ID!), s.Spec?.Labels?.[LABEL.container]);
      if (seen.state !== "running") return seen;
    }
    return { state: "running" };
  }

  private async observeService(id: string): Promise<Observation> {
    const task = newestTask(await this.tasksOf([id]));
    return observeTask(task, task?.NodeID ? await this.node(task.NodeID) : undefined);
  }

  /** Removes the instance's services; Swarm stops their tasks on their nodes with the grace period of the spec. */
  async removeWorkload(instanceId: string): Promise<number> {
    const services = await this.docker.listServices({ filters: instanceFilter(this.opts.deployment, instanceId) });
    for (const s of services) await this.removeService(s.ID!);
    return services.length;
  }

  removeNetwork(instanceId: string): Promise<void> {
    return removeOverlay(this.docker, instanceObjectName(this.opts.deployment, instanceId));
  }

  async removeObject(object: EngineObject): Promise<void> {
    if (object.kind === "network") await removeOverlay(this.docker, object.ref);
    else await this.removeService(object.ref);
  }

  async listOurs(): Promise<OurObjects> {
    const survey = await this.survey();
    const scope = { label: [`${LABEL.deployment}=${this.opts.deployment}`] };
    const networks = await this.docker.listNetworks({ filters: scope });
    return {
      workloads: survey.map((e) => ({
        kind: "workload",
        ref: e.serviceId,
        instanceId: e.instanceId,
        seen: e.seen.state === "missing" ? { state: "running" } : e.seen,
      })),
      networks: networks
        .filter((n) => n.Labels?.[LABEL.instanceId])
        .map((n) => ({ kind: "network", ref: n.Id, instanceId: n.Labels![LABEL.instanceId]! })),
    };
  }

  /** Every service of this deployment with its newest task and what that says, from three listings. */
  async survey(): Promise<SurveyEntry[]> {
    const services = await this.docker.listServices({
      filters: { label: [`${LABEL.deployment}=${this.opts.deployment}`] },
    });
    const ours = services.filter((s) => s.Spec?.Labels?.[LABEL.instanceId]);
    if (ours.length === 0) return [];
    const tasks = await this.tasksOf(ours.map((s) => s.ID!));
    const nodes = await nodesById(this.docker);
    return ours.map((s) => {
      const task = newestTask(tasks.filter((t) => t.ServiceID === s.ID));
      return {
        serviceId: s.ID!,
        instanceId: s.Spec!.Labels![LABEL.instanceId]!,
        task,
        seen: named(
          observeTask(task, task?.NodeID ? nodes.get(task.NodeID) : undefined),
          s.Spec?.Labels?.[LABEL.container],
        ),
      };
    });
  }

  async watchDeaths(handlers: DeathHandlers): Promise<{ close(): void }> {
    const watch = new SwarmDeathWatch({
      survey: () => this.survey(),
      handlers,
      logger: this.opts.logger,
      pollMs: this.opts.pollMs,
    });
    await watch.start();
    return watch;
  }

  /**
   * Image refs are unknown: each node pulls (or has) its own, so a missing image shows as the task's rejection,
   * at once. CPUs: the most any one schedulable node has, since one task cannot span nodes.
   */
  async facts(): Promise<EngineFacts> {
    const nodes = (await this.docker.listNodes()) as SwarmNode[];
    const usable = nodes.filter((n) => n.Spec?.Availability === "active" && n.Status?.State === "ready");
    const nanoCpus = Math.max(0, ...usable.map((n) => n.Description?.Resources?.NanoCPUs ?? 0));
    return { refs: null, cpus: Math.floor(nanoCpus / 1e9) };
  }

  classify(err: unknown): FailureKind {
    return classifyDockerFailure(err);
  }

  private async tasksOf(serviceIds: string[]): Promise<SwarmTask[]> {
    return (await this.docker.listTasks({ filters: { service: serviceIds } })) as SwarmTask[];
  }

  private async node(id: string): Promise<SwarmNode> {
    return (await this.docker.getNode(id).inspect()) as SwarmNode;
  }

  private async removeService(id: string): Promise<void> {
    await this.docker
      .getService(id)
      .remove()
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
  }
}

/** An observation of one container of an instance, naming it unless it is the single form's one container. */
function named(seen: Observation, container = MAIN_CONTAINER): Observation {
  if (seen.state !== "exited" || container === MAIN_CONTAINER) return seen;
  const reason = seen.reason.startsWith("container ")
    ? seen.reason.replace(/^container /, `${containerWord(container)} `)
    : `${containerWord(container)}: ${seen.reason}`;
  return { ...seen, reason };
}

/** A task that ended before it ran: a missing image is named as such (the node has no registry access to it). */
function startFailure(plan: ServicePlan, reason: string, node: SwarmNode | undefined): string {
  const unprepared = missingConfigReason(reason, nodeName(node));
  if (unprepared) return unprepared;
  if (/no such image|pull access denied|manifest unknown|not found: manifest/i.test(reason))
    return `image '${plan.def.image}' is not available on node ${nodeName(node)}: ${reason}`;
  return /exited/.test(reason) ? `${reason} before its port accepted connections` : reason;
}
