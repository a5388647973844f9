import type Docker from "dockerode";
import type { StartPlan } from "../engine/engine.ts";
import { instanceLabels, instanceObjectName } from "../docker/labels.ts";

/** Node label marking the nodes whose docker_gwbridge masquerades: only they run challenges with egress. */
export const EGRESS_NODE_LABEL = "org.ctf-instancer.egress";

const TMPFS_BYTES = 64 * 1024 * 1024;

export interface ServicePlan extends StartPlan {
  network: string;
  stopGraceSeconds: number;
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
  const { challenge, labels } = plan;
  const memory = challenge.memory_mb * 1024 * 1024;
  const nanoCpus = Math.round(challenge.cpus * 1e9);
  const egress = challenge.egress ? `node.labels.${EGRESS_NODE_LABEL}==true` : `node.labels.${EGRESS_NODE_LABEL}!=true`;
  return {
    Name: instanceObjectName(labels.deployment, labels.instanceId),
    Labels: instanceLabels(labels),
    TaskTemplate: {
      ContainerSpec: {
        Image: challenge.image,
        Env: Object.entries({ ...challenge.env, ...plan.env }).map(([k, v]) => `${k}=${v}`),
        Labels: instanceLabels(labels),
        Init: true,
        ReadOnly: challenge.read_only,
        Mounts: challenge.read_only
          ? [{ Type: "tmpfs", Source: "", Target: "/tmp", TmpfsOptions: { SizeBytes: TMPFS_BYTES, Mode: 0o1777 } }]
          : [],
        CapabilityDrop: ["ALL"],
        CapabilityAdd: challenge.cap_add.filter((c) => plan.allowedCapabilities.includes(c)),
        // Engines before API 1.46 ignore it (docs/swarm.md); set wherever the engine has it.
        Privileges: { NoNewPrivileges: true } as Docker.Privileges,
        StopGracePeriod: plan.stopGraceSeconds * 1e9,
      },
      Resources: {
        Limits: { NanoCPUs: nanoCpus, MemoryBytes: memory, Pids: challenge.pids_limit },
        Reservations: { NanoCPUs: Math.round((challenge.cpus_reserved ?? challenge.cpus) * 1e9), MemoryBytes: memory },
      },
      RestartPolicy: { Condition: "none" },
      Placement: { Constraints: [...challenge.placement, egress] },
      Networks: [{ Target: plan.network }],
      // Without a driver named, a service's log options are dropped silently.
      LogDriver: { Name: "json-file", Options: { "max-size": "1m", "max-file": "2" } },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Mode: "dnsrr",
      Ports: [{ Protocol: "tcp", TargetPort: challenge.port, PublishMode: "host" }],
    },
  };
}
