import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.ts";
import { waitUntil } from "../support/wait.ts";
import { freePort } from "./support/gateway.ts";
import { buildGatewayImage } from "./support/image.ts";
import { DOMAIN, ROUTE_TOKEN, viaGateway } from "./support/routing.ts";

const run = promisify(execFile);
const LABEL = `org.ctf-instancer.test=gateway-routing-image-${randomBytes(4).toString("hex")}`;
const ROUTE = randomBytes(10).toString("hex");

/** Serves `host` on the lab bridge (the gateway container runs in the suite engine's namespace and reaches it). */
async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, testEnv.labHost, () => ok()));
  return (server.address() as AddressInfo).port;
}

/**
 * The gateway image as compose.prod.yml runs it (read-only root, tmpfs, only CHOWN/SETUID/SETGID) with web names
 * on, in front of a stand-in of the API's route lookup, and an instance named through the container's hosts file
 * as Compose's host.docker.internal is.
 */
describe("gateway image: web names", () => {
  const lookups: { route: string; token: string | undefined }[] = [];
  let content: Server;
  let api: Server;
  let containerId = "";
  let port = 0;

  beforeAll(async () => {
    const image = await buildGatewayImage();
    content = createServer((req, res) => res.end(`instance content for ${req.headers.host}`));
    const contentPort = await listen(content);
    api = createServer((req, res) => {
      const route = /^\/routes\/([a-z0-9-]+)$/.exec(req.url ?? "")?.[1] ?? "";
      const token = req.headers["x-gateway-token"] as string | undefined;
      lookups.push({ route, token });
      if (token !== ROUTE_TOKEN) return void res.writeHead(401).end();
      if (route !== ROUTE) return void res.writeHead(404, { "x-accel-expires": "0" }).end();
      res.writeHead(200, { "x-route-upstream": `instances.internal:${contentPort}`, "x-accel-expires": "0" }).end();
    });
    const apiPort = await listen(api);
    port = await freePort();
    const args = ["run", "-d", "--label", LABEL, "--network", "host", "--read-only", "--tmpfs", "/tmp"];
    args.push("--cap-drop", "ALL", "--cap-add", "CHOWN", "--cap-add", "SETUID", "--cap-add", "SETGID");
    args.push("--security-opt", "no-new-privileges:true", "--add-host", `instances.internal:${testEnv.labHost}`);
    const env = {
      GATEWAY_LISTEN: `${testEnv.engineHost}:${port}`,
      GATEWAY_UPSTREAM: `${testEnv.labHost}:${apiPort}`,
      CHALLENGE_DOMAIN: DOMAIN,
      GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN,
    };
    for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
    containerId = (await run("docker", [...args, image])).stdout.trim();
    await waitUntil("gateway container up", async () => {
      const res = await fetch(`http://${testEnv.engineHost}:${port}/gateway/healthz`);
      return res.status === 200;
    });
  }, 600_000);
  afterAll(async () => {
    const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=${LABEL}`]).catch(() => ({ stdout: "" }));
    for (const id of stdout.split("\n").filter(Boolean)) await run("docker", ["rm", "-f", id]).catch(() => {});
    await new Promise<void>((ok) => (content ? content.close(() => ok()) : ok()));
    await new Promise<void>((ok) => (api ? api.close(() => ok()) : ok()));
  });

  it("serves a name through the lookup, with the secret, at an upstream named by the hosts file", async () => {
    const res = await viaGateway(port, ROUTE, "/", "GET", testEnv.engineHost);
    expect(res.status, `${res.body}\n${(await run("docker", ["logs", containerId])).stderr}`).toBe(200);
    expect(res.body).toBe(`instance content for ${ROUTE}.${DOMAIN}`);
    expect(lookups).toContainEqual({ route: ROUTE, token: ROUTE_TOKEN });
  });

  it("answers an unknown name with the 404 page", async () => {
    const res = await viaGateway(port, "unknown-name", "/", "GET", testEnv.engineHost);
    expect(res.status).toBe(404);
    expect(res.body).toContain(`unknown-name.${DOMAIN}`);
  });
});
