// The production stack, end to end, on a machine with no image registry: stand-ins for the base images
// (docker/offline/build-stand-ins.sh, reused when present), then `docker-compose -f compose.prod.yml up -d --build`,
// wait for health, assign web100 through the published API, fetch the returned address, remove it, check the
// container is gone, and `down -v` whatever happens.
//
// Addresses: the API is published on 127.0.0.1. Challenge ports are published on the engine's host-gateway address
// (the host's own docker0 address), because the worker checks them from inside its container through
// host.docker.internal, which cannot reach ports bound to the host's loopback. The test fetches the challenge at
// that host-local address: the traffic goes only to the container this test made.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compose, run, writeEnvFile } from "./support.ts";
import type { RunResult } from "./support.ts";

const BUILD_TIMEOUT_MS = 20 * 60_000;
const suffix = randomBytes(4).toString("hex");
const project = `ctfi_smoke_${suffix}`;
const deployment = `smoke-${suffix}`;
const token = `smoke-${randomBytes(16).toString("hex")}`;
const files = ["compose.prod.yml"];

let envFile = "";
let apiUrl = "";
let hostGateway = "";
let upResult: RunResult | null = null;

function must(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}):\n${result.stderr.slice(-4000)}`);
  return result;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The address the engine gives `host-gateway` (the host as containers see it). */
async function hostGatewayAddress(): Promise<string> {
  const hosts = must(
    await run("docker", [
      "run",
      "--rm",
      "--add-host",
      "probe.host:host-gateway",
      "busybox:stable",
      "cat",
      "/etc/hosts",
    ]),
    "reading host-gateway",
  ).stdout;
  const match = /^(\d+\.\d+\.\d+\.\d+)\s+probe\.host$/m.exec(hosts);
  if (!match) throw new Error(`no host-gateway address in /etc/hosts:\n${hosts}`);
  return match[1]!;
}

async function logs(): Promise<string> {
  const result = await compose(files, envFile, ["logs", "--no-color", "--tail", "40"]);
  return result.stdout.slice(-8000);
}

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>): Promise<T> {
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
  throw new Error(`${what} not within ${deadlineMs / 1000} s (last error: ${String(last)})\n${await logs()}`);
}

async function api(path: string, body: object): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${apiUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: await res.json().catch(() => null), headers: res.headers };
}

async function managedContainers(): Promise<string[]> {
  const out = must(
    await run("docker", ["ps", "-aq", "--filter", `label=org.ctf-instancer.deployment=${deployment}`]),
    "docker ps",
  ).stdout;
  return out.split("\n").filter(Boolean);
}

async function health(service: string): Promise<string> {
  const id = must(await compose(files, envFile, ["ps", "-q", service]), `compose ps ${service}`).stdout.trim();
  if (!id) return "missing";
  return must(await run("docker", ["inspect", "-f", "{{.State.Health.Status}}", id]), "inspect").stdout.trim();
}

beforeAll(
  async () => {
    must(await run("bash", ["docker/offline/build-stand-ins.sh"], { timeoutMs: BUILD_TIMEOUT_MS }), "stand-ins");
    must(await run("bash", ["docker/challenge/build-image.sh"], { timeoutMs: 5 * 60_000 }), "challenge image");
    hostGateway = await hostGatewayAddress();
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const gid = must(await run("stat", ["-c", "%g", "/var/run/docker.sock"]), "stat docker.sock").stdout.trim();
    envFile = writeEnvFile({
      COMPOSE_PROJECT_NAME: project,
      APP_IMAGE: "ctf-instancer/app:compose-test",
      POSTGRES_PASSWORD: randomBytes(16).toString("hex"),
      REDIS_PASSWORD: randomBytes(16).toString("hex"),
      API_TOKENS: token,
      PUBLIC_HOST: hostGateway,
      PORT_BIND_ADDRESS: hostGateway,
      API_BIND_ADDRESS: "127.0.0.1",
      API_PORT: String(apiPort),
      DOCKER_GID: gid,
      DEPLOYMENT_NAME: deployment,
      LOG_LEVEL: "info",
    });
    upResult = await compose(files, envFile, ["up", "-d", "--build"], BUILD_TIMEOUT_MS);
  },
  BUILD_TIMEOUT_MS + 5 * 60_000,
);

afterAll(async () => {
  if (envFile) {
    await compose(files, envFile, ["down", "-v", "--remove-orphans", "--timeout", "10"], 5 * 60_000);
    for (const id of await managedContainers().catch(() => [])) await run("docker", ["rm", "-f", "-v", id]);
    const nets = await run("docker", [
      "network",
      "ls",
      "-q",
      "--filter",
      `label=org.ctf-instancer.deployment=${deployment}`,
    ]);
    for (const id of nets.stdout.split("\n").filter(Boolean)) await run("docker", ["network", "rm", id]);
    rmSync(dirname(envFile), { recursive: true, force: true });
  }
}, 6 * 60_000);

describe("compose.prod.yml on local stand-ins", () => {
  it(
    "comes up healthy, assigns web100 at an address that serves, and removes it",
    async () => {
      expect(upResult?.code, upResult?.stderr.slice(-4000)).toBe(0);

      // Health: both app containers report healthy and the API is ready (PostgreSQL and Redis reachable).
      await until("web and worker healthy", 180_000, async () =>
        (await health("web")) === "healthy" && (await health("worker")) === "healthy" ? true : null,
      );
      await until("GET /readyz 200", 60_000, async () =>
        (await fetch(`${apiUrl}/readyz`)).status === 200 ? true : null,
      );
      const unauthenticated = await fetch(`${apiUrl}/assign`, { method: "POST", body: "{}" });
      expect(unauthenticated.status).toBe(401);

      // Assign through the published API.
      const team = { team_id: "team1", challenge_id: "web100" };
      let assigned = await api("/assign", team);
      if (assigned.status === 202) {
        assigned = await until("instance running", 60_000, async () => {
          const again = await api("/assign", team);
          return again.status === 200 ? again : null;
        });
      }
      expect(assigned.status, JSON.stringify(assigned.json)).toBe(200);
      const address: string = assigned.json.container_address;
      expect(address).toMatch(new RegExp(`^http://${hostGateway.replaceAll(".", "\\.")}:\\d+$`));
      expect(await managedContainers()).toHaveLength(1);

      // The address serves the team's own copy.
      const page = await fetch(`${address}/team.txt`, { signal: AbortSignal.timeout(5000) });
      expect(page.status).toBe(200);
      expect((await page.text()).trim()).toBe("team1");

      // Remove (the API may ask to wait out a short cool-down after assigning), then the container is gone.
      const removed = await until("remove answered 200", 60_000, async () => {
        const res = await api("/remove", team);
        if (res.status === 429) return null;
        return res;
      });
      expect(removed.status, JSON.stringify(removed.json)).toBe(200);
      await until("challenge container gone", 30_000, async () =>
        (await managedContainers()).length === 0 ? true : null,
      );
      await expect(fetch(address, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    },
    8 * 60_000,
  );
});
