import type Docker from "dockerode";
import { PermanentStartError, type InstanceLabels } from "../engine/engine.ts";
import { isConflict, isNotFound } from "../docker/errors.ts";
import { instanceLabels, instanceObjectName } from "../docker/labels.ts";

const REMOVE_TRIES = 100;
const REMOVE_RETRY_MS = 200;

/**
 * One overlay network per instance: its containers reach each other across nodes and nothing of other teams.
 * Not `internal`, which would also take away the host-mode port; egress is a matter of the node's
 * docker_gwbridge (see docs/swarm.md and EGRESS_NODE_LABEL).
 */
export async function ensureOverlay(docker: Docker, labels: InstanceLabels): Promise<string> {
  const name = instanceObjectName(labels.deployment, labels.instanceId);
  try {
    await docker.createNetwork({
      Name: name,
      Driver: "overlay",
      CheckDuplicate: true,
      Attachable: false,
      Labels: instanceLabels(labels),
    });
  } catch (err) {
    if (isConflict(err)) return name;
    if (/pool|no available network|could not find an available/i.test(String(err)))
      throw new PermanentStartError(
        "the swarm has no free address pool for another instance network; see docs/swarm.md (default-addr-pool)",
      );
    throw err;
  }
  return name;
}

/**
 * Removes an instance's overlay. The manager refuses while a task of a removed service is still shutting down on
 * its node, so it is asked again for a while; what is still refused after that is left to the reconciler.
 */
export async function removeOverlay(docker: Docker, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.getNetwork(name).remove();
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      const busy = /in use|active endpoints/i.test(String(err));
      if (!busy || attempt >= REMOVE_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS));
    }
  }
}
