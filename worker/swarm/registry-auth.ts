import { readFileSync } from "node:fs";

/** What the Docker API takes as X-Registry-Auth. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

const DOCKER_HUB = "https://index.docker.io/v1/";

/** The registry an image reference names: its first part when that is a host, else Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split("/")[0]!;
  const isHost = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return isHost ? first : DOCKER_HUB;
}

/**
 * Credentials by registry, read once from a Docker client config file (what `docker login` writes: `auths` with a
 * base64 `user:password` per registry). A node's own login is not used for tasks: Swarm takes credentials from the
 * request that creates the service. Credential helpers (`credsStore`) are not read.
 */
export function loadRegistryAuths(path: string): Map<string, RegistryAuth> {
  let parsed: { auths?: Record<string, { auth?: string }> };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as typeof parsed;
  } catch (err) {
    throw new Error(`REGISTRY_AUTH_FILE: cannot read ${path} as a Docker config file: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const auths = new Map<string, RegistryAuth>();
  for (const [registry, entry] of Object.entries(parsed.auths ?? {})) {
    const decoded = Buffer.from(entry.auth ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new Error(`REGISTRY_AUTH_FILE: the entry for ${registry} has no user:password auth`);
    const server = registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    const key = /(^|\.)docker\.io$/.test(server) ? DOCKER_HUB : server;
    auths.set(key, { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: registry });
  }
  return auths;
}
