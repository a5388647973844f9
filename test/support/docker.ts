import Docker from "dockerode";
import { LABEL } from "../../worker/docker/labels.ts";

export const docker = new Docker();

export function deploymentContainers(deployment: string, all = true) {
  return docker.listContainers({ all, filters: { label: [`${LABEL.deployment}=${deployment}`] } });
}

/** Removes everything a test deployment left behind, whatever state it is in: containers, then their networks. */
export async function removeDeploymentResources(deployment: string): Promise<void> {
  for (const c of await deploymentContainers(deployment)) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
  }
  const networks = await docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${deployment}`] } });
  for (const n of networks)
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
}
