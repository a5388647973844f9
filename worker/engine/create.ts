import Docker from "dockerode";
import type { WorkerConfig } from "../../infra/config.ts";
import type { Logger } from "../../infra/logger.ts";
import { DockerEngine } from "../docker/engine.ts";
import { SwarmEngine } from "../swarm/engine.ts";
import { assertSwarmManager } from "../swarm/preflight.ts";
import { loadRegistryAuths } from "../swarm/registry-auth.ts";
import { ensureSharedBridge } from "../swarm/shared-bridge.ts";
import type { Engine } from "./engine.ts";

/**
 * The engine ENGINE names, on the Docker API at DOCKER_HOST (dockerode reads it, and its TLS variables, when no
 * client is given). A swarm engine must be a manager: told at start, not at the first instance.
 */
export async function createEngine(
  config: WorkerConfig,
  logger: Logger,
  docker: Docker = new Docker(),
): Promise<Engine> {
  if (config.ENGINE === "swarm") {
    await assertSwarmManager(docker);
    const shared = config.SWARM_SHARED_BRIDGE;
    return new SwarmEngine({
      docker,
      deployment: config.DEPLOYMENT_NAME,
      startTimeoutSeconds: config.START_TIMEOUT_SECONDS,
      stopGraceSeconds: config.STOP_TIMEOUT_SECONDS,
      registryAuths: config.REGISTRY_AUTH_FILE ? loadRegistryAuths(config.REGISTRY_AUTH_FILE) : undefined,
      sharedBridge: shared ? { config: shared, network: await ensureSharedBridge(docker, shared) } : undefined,
      logger,
    });
  }
  return new DockerEngine({
    docker,
    deployment: config.DEPLOYMENT_NAME,
    publicHost: config.PUBLIC_HOST,
    probeHost: config.PORT_CHECK_HOST,
    logger,
  });
}
