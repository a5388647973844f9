import type Docker from "dockerode";

/** ENGINE=swarm needs a manager of an active swarm: anything else is a setup error, told at start. */
export async function assertSwarmManager(docker: Docker): Promise<void> {
  const info = (await docker.info().catch((err: Error) => {
    throw new Error(`ENGINE=swarm but the Docker engine (DOCKER_HOST) does not answer: ${err.message}`);
  })) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  const state = info.Swarm?.LocalNodeState ?? "inactive";
  if (state !== "active")
    throw new Error(
      `ENGINE=swarm but the Docker engine (DOCKER_HOST) is not in a swarm (state: ${state}); run 'docker swarm init' or point DOCKER_HOST at a manager`,
    );
  if (!info.Swarm?.ControlAvailable)
    throw new Error(
      "ENGINE=swarm but the Docker engine (DOCKER_HOST) is a worker node, not a manager; point DOCKER_HOST at a manager",
    );
}
