import type Docker from "dockerode";
import type { StartPlan } from "../engine/engine.ts";
import type { ContainerDef } from "../../domain/challenge-shape.ts";
import { containerLabels, containerObjectName } from "../docker/labels.ts";

/** Node label marking the nodes whose docker_gwbridge masquerades: only they run challenges with egress. */
export const EGRESS_NODE_LABEL = "org.ctf-instancer.egress";

const TMPFS_BYTES = 64 * 1024 * 1024;

/** One container of a start, as one service on the instance's network (its overlay, or the shared bridge). */
export interface ServicePlan extends StartPlan {
  network: string;
  stopGraceSeconds: number;
  def: ContainerDef;
}

/**
 * One service per instance, one replica, hardened as far as the service API goes: capabilities, PIDs, memory,
 * CPUs, init, read-only root with a tmpfs, capped logs. Memory is reserved in full and CPUs as the challenge says
 * (all of them unless `cpus_reserved`), so Swarm places by free capacity and never overcommits a node's memory. The port is published in host mode on the node that runs the task
 * (the routing mesh needs IPVS, and the address should name its node); `dnsrr` asks for no virtual IP.
 * Restart policy none: a death goes through the instancer's own lifecycle (restart_on_exit, MAX_RESTARTS), which
 * re-reads the address wherever the new task lands.
 */
export function serviceSpec(plan: ServicePlan): Docker.CreateServiceOptions {
  const { challenge, labels, def } = plan;
  const memory = def.memory_mb * 1024 * 1024;
  const nanoCpus = Math.round(def.cpus * 1e9);
  // cpus_reserved is the instance's: its containers share it as they share its CPUs.
  const totalCpus = plan.containers.reduce((sum, c) => sum + c.cpus, 0);
  const reservedCpus = challenge.cpus_reserved === null ? def.cpus : (challenge.cpus_reserved * def.cpus) / totalCpus;
  const egress = challenge.egress ? `node.labels.${EGRESS_NODE_LABEL}==true` : `node.labels.${EGRESS_NODE_LABEL}!=true`;
  return {
    Name: containerObjectName(labels.deployment, labels.instanceId, def.name),
    Labels: containerLabels(labels, def.name),
    TaskTemplate: {
      ContainerSpec: {
        Image: def.image,
        Args: def.command ?? undefined,
        Env: Object.entries({ ...def.env, ...plan.env }).map(([k, v]) => `${k}=${v}`),
        Labels: containerLabels(labels, def.name),
        Init: true,
        ReadOnly: def.read_only,
        Mounts: def.read_only
          ? [{ Type: "tmpfs", Source: "", Target: "/tmp", TmpfsOptions: { SizeBytes: TMPFS_BYTES, Mode: 0o1777 } }]
          : [],
        CapabilityDrop: ["ALL"],
        CapabilityAdd: def.cap_add.filter((c) => plan.allowedCapabilities.includes(c)),
        // Engines before API 1.46 ignore it (docs/swarm.md); set wherever the engine has it.
        Privileges: { NoNewPrivileges: true } as Docker.Privileges,
        StopGracePeriod: plan.stopGraceSeconds * 1e9,
      },
      Resources: {
        Limits: { NanoCPUs: nanoCpus, MemoryBytes: memory, Pids: def.pids_limit },
        Reservations: { NanoCPUs: Math.round(reservedCpus * 1e9), MemoryBytes: memory },
      },
      RestartPolicy: { Condition: "none" },
      Placement: { Constraints: [...challenge.placement, egress] },
      // The others reach it by its name. A lone container has no others, and on the shared bridge one name for
      // every team's container would resolve to all of them.
      Networks: [{ Target: plan.network, Aliases: plan.containers.length > 1 ? [def.name] : [] }],
      // Without a driver named, a service's log options are dropped silently.
      LogDriver: { Name: "json-file", Options: { "max-size": "1m", "max-file": "2" } },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Mode: "dnsrr",
      Ports: plan.exposures
        .filter((e) => e.container === def.name)
        .map((e) => ({ Protocol: "tcp", TargetPort: e.port, PublishMode: "host" })),
    },
  };
}
