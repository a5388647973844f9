import type Docker from "dockerode";
import { PermanentStartError, type InstanceLabels } from "../engine/engine.ts";
import { isConflict, isNotFound } from "./errors.ts";
import { instanceLabels, instanceObjectName } from "./labels.ts";

/**
 * One bridge network per instance, so teams cannot reach each other's containers. Without egress, the network
 * does no IP masquerading: published ports still answer (replies follow the inbound connection), but nothing
 * the container starts can reach beyond the host.
 */
export async function ensureInstanceNetwork(docker: Docker, labels: InstanceLabels, egress: boolean): Promise<string> {
  const name = instanceObjectName(labels.deployment, labels.instanceId);
  try {
    await docker.createNetwork({
      Name: name,
      Driver: "bridge",
      CheckDuplicate: true,
      Labels: instanceLabels(labels),
      Options: {
        "com.docker.network.bridge.enable_ip_masquerade": String(egress),
        "com.docker.network.bridge.enable_icc": "true",
      },
    });
  } catch (err) {
    if (isConflict(err)) return name; // a previous attempt made it
    if (/non-overlapping|address pool|available.*pool/i.test(String(err)))
      throw new PermanentStartError(
        "the Docker engine has no free address pool for another instance network; raise default-address-pools (see README)",
      );
    throw err;
  }
  return name;
}

export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  await docker
    .getNetwork(name)
    .remove()
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
}
