// The production stack end to end on a machine with no image registry: stand-ins for the base images
// (docker/offline/build-stand-ins.sh, reused when present), `docker-compose -f compose.prod.yml up -d --build`,
// health, assign web100 through the gateway's published port, fetch the returned address, remove it, the
// container is gone; only the gateway publishes a port; with web stopped the gateway answers maintenance, and
// normal answers resume once web is back. `down -v` whatever happens. See test/compose/stack.ts for the addresses.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.ts";
import { compose, run } from "./support.ts";
import type { RunResult } from "./support.ts";
import {
  BUILD_TIMEOUT_MS,
  assignServeRemove,
  createStack,
  destroy,
  health,
  must,
  prepareImages,
  until,
  up,
} from "./stack.ts";
import type { Stack } from "./stack.ts";

let stack: Stack | null = null;
let upResult: RunResult | null = null;

beforeAll(
  async () => {
    await prepareImages();
    const gid = must(await run("stat", ["-c", "%g", testEnv.dockerSocket]), "stat docker.sock").stdout.trim();
    stack = await createStack(["compose.prod.yml"], `smoke-${randomBytes(16).toString("hex")}`, {
      portVariable: "GATEWAY_PORT",
      healthy: ["gateway", "web", "worker"],
      env: {
        APP_IMAGE: "ctf-instancer/app:compose-test",
        GATEWAY_IMAGE: "ctf-instancer/gateway:compose-test",
        POSTGRES_PASSWORD: randomBytes(16).toString("hex"),
        REDIS_PASSWORD: randomBytes(16).toString("hex"),
        DOCKER_GID: gid,
      },
    });
    upResult = await up(stack);
  },
  BUILD_TIMEOUT_MS + 5 * 60_000,
);

afterAll(() => destroy(stack), 6 * 60_000);

/** Host bindings of every container of the project, by compose service, as the engine reports them. */
async function hostBindings(s: Stack): Promise<Record<string, string[]>> {
  const filter = `label=com.docker.compose.project=${s.project}`;
  const ids = must(await run("docker", ["ps", "-q", "--filter", filter]), "docker ps").stdout.split("\n");
  const inspected = JSON.parse(must(await run("docker", ["inspect", ...ids.filter(Boolean)]), "inspect").stdout);
  const bindings: Record<string, string[]> = {};
  for (const c of inspected) {
    const ports = Object.entries<{ HostIp: string; HostPort: string }[] | null>(c.NetworkSettings.Ports ?? {});
    bindings[c.Config.Labels["com.docker.compose.service"]] = ports.flatMap(([port, hosts]) =>
      (hosts ?? []).map((h) => `${h.HostIp}:${h.HostPort}->${port}`),
    );
  }
  return bindings;
}

describe("compose.prod.yml on local stand-ins", () => {
  it(
    "comes up healthy, assigns web100 through the gateway at an address that serves, and removes it",
    async () => {
      expect(upResult?.code, upResult?.stderr.slice(-4000)).toBe(0);
      await assignServeRemove(stack!);
    },
    8 * 60_000,
  );

  it("publishes one host port, the gateway's, on its bind address", async () => {
    expect(await health(stack!, "gateway")).toBe("healthy");
    const port = new URL(stack!.apiUrl).port;
    expect(await hostBindings(stack!)).toEqual({
      gateway: [`${testEnv.engineHost}:${port}->8000/tcp`],
      web: [],
      worker: [],
      db: [],
      redis: [],
    });
  });

  it(
    "answers 503 maintenance with Retry-After while web is stopped, and proxies again once it is back",
    async () => {
      const s = stack!;
      must(await compose(s.files, s.envFile, ["stop", "web"]), "stop web");
      const res = await fetch(`${s.apiUrl}/instances`, { headers: { authorization: `Bearer ${s.token}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("30");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ error: { code: "maintenance", details: { retryAfterSeconds: 30 } } });
      expect(await health(s, "gateway")).toBe("healthy");

      must(await compose(s.files, s.envFile, ["start", "web"]), "start web");
      await until(s, "GET /readyz 200 through the gateway", 120_000, async () =>
        (await fetch(`${s.apiUrl}/readyz`)).status === 200 ? true : null,
      );
      const listed = await fetch(`${s.apiUrl}/instances`, { headers: { authorization: `Bearer ${s.token}` } });
      expect(listed.status).toBe(200);
    },
    4 * 60_000,
  );
});
