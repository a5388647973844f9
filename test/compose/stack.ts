// One compose stack under test: a unique project and deployment name, an env file, and the scenario both smoke
// tests run (health → assign web100 through the published port → fetch the address → remove → container gone),
// with `down -v` and label-based cleanup that also runs when the scenario failed.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { expect } from "vitest";
import { testEnv } from "../support/env.ts";
import { compose, run, writeEnvFile } from "./support.ts";
import type { RunResult } from "./support.ts";

export const BUILD_TIMEOUT_MS = 20 * 60_000;

export function must(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}):\n${result.stderr.slice(-4000)}`);
  return result;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Base images (stand-ins when missing, never replacing real ones) and the sample challenge image. */
export async function prepareImages(): Promise<void> {
  must(await run("bash", ["docker/offline/build-stand-ins.sh"], { timeoutMs: BUILD_TIMEOUT_MS }), "stand-ins");
  must(await run("bash", ["docker/challenge/build-image.sh"], { timeoutMs: 5 * 60_000 }), "challenge image");
}

export interface StackOptions {
  /** The variable naming the host port the API is reached on: web's own (dev) or the gateway's (prod). */
  portVariable: "API_PORT" | "GATEWAY_PORT";
  /** Services that must be healthy before the scenario starts. */
  healthy: string[];
  /** Further env file values. */
  env: Record<string, string>;
}

export interface Stack {
  files: string[];
  envFile: string;
  project: string;
  deployment: string;
  apiUrl: string;
  token: string;
  publicHost: string;
  healthy: string[];
}

/**
 * Values every stack under test gets: unique names, the suite's engine (its socket mounted into the worker), and
 * the API and challenge ports published on the engine's own address, which both this process and the worker's
 * container reach.
 */
export async function createStack(files: string[], token: string, options: StackOptions): Promise<Stack> {
  const suffix = randomBytes(4).toString("hex");
  const project = `ctfi_smoke_${suffix}`;
  const deployment = `smoke-${suffix}`;
  const publicHost = testEnv.engineHost;
  const apiPort = await freePort();
  const envFile = writeEnvFile({
    COMPOSE_PROJECT_NAME: project,
    PUBLIC_HOST: publicHost,
    PORT_BIND_ADDRESS: publicHost,
    PORT_CHECK_HOST: publicHost,
    API_BIND_ADDRESS: publicHost,
    GATEWAY_BIND_ADDRESS: publicHost,
    DOCKER_SOCKET: testEnv.dockerSocket,
    [options.portVariable]: String(apiPort),
    DEPLOYMENT_NAME: deployment,
    API_TOKENS: token,
    LOG_LEVEL: "info",
    ...options.env,
  });
  const apiUrl = `http://${publicHost}:${apiPort}`;
  return { files, envFile, project, deployment, apiUrl, token, publicHost, healthy: options.healthy };
}

export async function logs(stack: Stack): Promise<string> {
  const result = await compose(stack.files, stack.envFile, ["logs", "--no-color", "--tail", "40"]);
  return result.stdout.slice(-8000);
}

export async function until<T>(
  stack: Stack,
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} not within ${deadlineMs / 1000} s (last error: ${String(last)})\n${await logs(stack)}`);
}

async function api(stack: Stack, path: string, body: object): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

export async function managedContainers(stack: Stack): Promise<string[]> {
  const out = must(
    await run("docker", ["ps", "-aq", "--filter", `label=org.ctf-instancer.deployment=${stack.deployment}`]),
    "docker ps",
  ).stdout;
  return out.split("\n").filter(Boolean);
}

export async function health(stack: Stack, service: string): Promise<string> {
  const id = must(await compose(stack.files, stack.envFile, ["ps", "-q", service]), `ps ${service}`).stdout.trim();
  if (!id) return "missing";
  return must(await run("docker", ["inspect", "-f", "{{.State.Health.Status}}", id]), "inspect").stdout.trim();
}

export function up(stack: Stack): Promise<RunResult> {
  return compose(stack.files, stack.envFile, ["up", "-d", "--build"], BUILD_TIMEOUT_MS);
}

/** The end-to-end scenario; throws with the stack's logs when a wait runs out. */
export async function assignServeRemove(stack: Stack): Promise<void> {
  await until(stack, `${stack.healthy.join(", ")} healthy`, 180_000, async () => {
    for (const service of stack.healthy) if ((await health(stack, service)) !== "healthy") return null;
    return true;
  });
  await until(stack, "GET /readyz 200", 60_000, async () =>
    (await fetch(`${stack.apiUrl}/readyz`)).status === 200 ? true : null,
  );
  const unauthenticated = await fetch(`${stack.apiUrl}/assign`, { method: "POST", body: "{}" });
  expect(unauthenticated.status).toBe(401);

  const team = { team_id: "team1", challenge_id: "web100" };
  let assigned = await api(stack, "/assign", team);
  if (assigned.status === 202) {
    assigned = await until(stack, "instance running", 60_000, async () => {
      const again = await api(stack, "/assign", team);
      return again.status === 200 ? again : null;
    });
  }
  expect(assigned.status, JSON.stringify(assigned.json)).toBe(200);
  const address: string = assigned.json.container_address;
  expect(address).toMatch(new RegExp(`^http://${stack.publicHost.replaceAll(".", "\\.")}:\\d+$`));
  expect(await managedContainers(stack)).toHaveLength(1);

  const page = await fetch(`${address}/team.txt`, { signal: AbortSignal.timeout(5000) });
  expect(page.status).toBe(200);
  expect((await page.text()).trim()).toBe("team1");

  // The API may ask to wait out a short cool-down after assigning (429 with Retry-After).
  const removed = await until(stack, "remove answered", 60_000, async () => {
    const res = await api(stack, "/remove", team);
    return res.status === 429 ? null : res;
  });
  expect(removed.status, JSON.stringify(removed.json)).toBe(200);
  await until(stack, "challenge container gone", 30_000, async () =>
    (await managedContainers(stack)).length === 0 ? true : null,
  );
  await expect(fetch(address, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
}

/** `down -v`, then anything the worker labelled for this deployment, then the env file. */
export async function destroy(stack: Stack | null): Promise<void> {
  if (!stack) return;
  await compose(stack.files, stack.envFile, ["down", "-v", "--remove-orphans", "--timeout", "10"], 5 * 60_000);
  for (const id of await managedContainers(stack).catch(() => [])) await run("docker", ["rm", "-f", "-v", id]);
  const label = `label=org.ctf-instancer.deployment=${stack.deployment}`;
  const nets = await run("docker", ["network", "ls", "-q", "--filter", label]);
  for (const id of nets.stdout.split("\n").filter(Boolean)) await run("docker", ["network", "rm", id]);
  rmSync(dirname(stack.envFile), { recursive: true, force: true });
}
