import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { LABEL } from "../../worker/docker/labels.ts";
import { removeOverlay } from "../../worker/swarm/networks.ts";

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

/** Removes a test deployment's services and networks from a swarm, through its manager. */
export async function removeSwarmDeployment(manager: Docker, deployment: string): Promise<void> {
  const filters = { label: [`${LABEL.deployment}=${deployment}`] };
  for (const s of await manager.listServices({ filters }))
    await manager
      .getService(s.ID!)
      .remove()
      .catch(() => {});
  for (const n of await manager.listNetworks({ filters })) await removeOverlay(manager, n.Id).catch(() => {});
}

/** Runs a command in a container of `engine` and returns its exit code and output. */
export async function execIn(
  engine: Docker,
  containerId: string,
  cmd: string[],
): Promise<{ code: number; out: string }> {
  const e = await engine.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (c: Buffer) => chunks.push(c));
  engine.modem.demuxStream(stream, sink, sink);
  await new Promise((resolve) => stream.on("end", resolve));
  const { ExitCode } = await e.inspect();
  return { code: ExitCode ?? -1, out: Buffer.concat(chunks).toString("utf8") };
}
