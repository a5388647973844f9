import type Docker from "dockerode";
import type { StartPlan } from "../engine/engine.ts";
import { isConflict } from "../docker/errors.ts";

/** Capabilities that would let a container forge or sniff frames on a bridge it shares with other teams. */
const LINK_LAYER_CAPABILITIES = ["NET_RAW", "NET_ADMIN", "SYS_ADMIN", "ALL"];

/**
 * Whether an instance may run on the shared bridge instead of an overlay of its own: one container (several need a
 * network of their own to find each other by name) that cannot speak below IP, where icc=false does not reach.
 */
export function fitsSharedBridge(plan: StartPlan): boolean {
  if (plan.containers.length !== 1) return false;
  const granted = plan.containers[0]!.cap_add.filter((c) => plan.allowedCapabilities.includes(c));
  return !granted.some((c) => LINK_LAYER_CAPABILITIES.includes(c));
}

/**
 * The swarm network made from the config-only network SWARM_SHARED_BRIDGE names. Each node builds its own bridge
 * from its own copy of that config (icc off, masquerading as its docker_gwbridge), and its addresses come from the
 * node, not from the swarm's pool. Attaching a task to it costs what the default bridge costs, not an overlay's
 * setup on the node. Checked at start on the manager, which should hold the config as every node does: a name that
 * is not a config-only network there is a setup error, told at once.
 *
 * One network per config, whatever the deployment: two networks from one config would claim the same subnet and
 * bridge on a node, and the second one's tasks would be refused there.
 */
export async function ensureSharedBridge(docker: Docker, config: string): Promise<string> {
  const found = (await docker.listNetworks({ filters: { name: [config] } })) as {
    Name: string;
    ConfigOnly?: boolean;
  }[];
  if (!found.some((n) => n.Name === config && n.ConfigOnly))
    throw new Error(
      `SWARM_SHARED_BRIDGE names '${config}', but the manager has no config-only network of that name; ` +
        "create it on every node (docs/swarm.md, 'The shared bridge')",
    );
  const name = sharedBridgeName(config);
  try {
    // Swarm refuses labels on a network made from a config; no deployment owns it, and none removes it.
    await docker.createNetwork({
      Name: name,
      Driver: "bridge",
      Scope: "swarm",
      ConfigFrom: { Network: config },
      CheckDuplicate: true,
    } as Docker.NetworkCreateOptions);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  return name;
}

export const sharedBridgeName = (config: string) => `ctfi-shared-${config}`;

/** A task refused because its node lacks the config: named as the setup problem it is. */
export function missingConfigReason(reason: string, node: string): string | null {
  const m = /configuration network "([^"]+)" does not exist/.exec(reason);
  return m
    ? `node ${node} has no config-only network '${m[1]}' (SWARM_SHARED_BRIDGE); create it on every node (docs/swarm.md)`
    : null;
}
