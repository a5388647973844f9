import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.ts";
import { waitUntil } from "../support/wait.ts";
import { ApiProcess, migrate } from "./support/api-process.ts";
import { freePort, openTempDir, TestGateway } from "./support/gateway.ts";
import { PrivatePostgres } from "./support/private-postgres.ts";

const TOKEN = `gw-e2e-${randomBytes(12).toString("hex")}`;
const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function call(url: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await fetch(url, { headers });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* HTML */
  }
  return { status: res.status, headers: res.headers, text, json, ms: performance.now() - started };
}

describe("gateway in front of the real API process and a PostgreSQL it can lose", () => {
  let dir: string;
  let pg: PrivatePostgres;
  let api: ApiProcess;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = await openTempDir("gw-e2e-");
    pg = new PrivatePostgres(dir);
    await pg.init();
    await pg.start();
    await migrate(pg.url);
    const id = randomBytes(4).toString("hex");
    api = new ApiProcess(await freePort(), {
      DATABASE_URL: pg.url,
      REDIS_URL: testEnv.redisUrl,
      API_TOKENS: TOKEN,
      LOG_LEVEL: "warn",
      DEPLOYMENT_NAME: `gw${id}`,
      QUEUE_PREFIX: `gw${id}`,
      SHUTDOWN_TIMEOUT_SECONDS: "2",
      MAX_LIVE_INSTANCES: "1",
    });
    await api.start();
    gw = await TestGateway.start({
      upstreamPort: api.port,
      env: { MAINTENANCE_CONTACT_EMAIL: "orga@ctf.example", MAINTENANCE_CONTACT_LABEL: "#support on Discord" },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await api?.kill();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("proxies to the API, with the request id travelling both ways", async () => {
    const res = await call(gw.url("/challenges"), { ...AUTH, "x-request-id": "e2e-list-1" });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("e2e-list-1");
    const ready = await call(gw.url("/readyz"));
    expect(ready.status).toBe(200);
    // The API's own errors pass through as they are.
    const unauthorized = await call(gw.url("/instances"), { authorization: "Bearer wrong-token-wrong-token" });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json.error.code).not.toBe("maintenance");
  });

  it("database stopped: API calls get the maintenance envelope within 2 s, /healthz still answers", async () => {
    await pg.stop();
    try {
      // The API itself fails fast (item 3), and the gateway turns its 503 into maintenance.
      const direct = await call(`http://127.0.0.1:${api.port}/challenges`, AUTH);
      expect(direct.ms).toBeLessThan(2_000);
      expect(direct.status).toBe(503);
      expect(direct.json.error.code).toBe("service_unavailable");

      for (const path of ["/challenges", "/instances", "/readyz"]) {
        const res = await call(gw.url(path), { ...AUTH, ...BROWSER, "x-request-id": "e2e-db-down" });
        expect(res.ms, path).toBeLessThan(2_000);
        expect(res.status, path).toBe(503);
        expect(res.headers.get("retry-after")).toBe("30");
        expect(res.headers.get("cache-control")).toBe("no-store");
        expect(res.json.error, path).toMatchObject({ code: "maintenance", requestId: "e2e-db-down" });
      }
      expect((await call(gw.url("/healthz"))).status).toBe(200);
    } finally {
      await pg.start();
    }
    // Back by itself: the API's pool reconnects, nginx was never touched.
    await waitUntil("API answers through the gateway again", async () => {
      return (await call(gw.url("/challenges"), AUTH)).status === 200;
    });
  });

  it("API killed: the next request gets the maintenance page; API restarted: normal responses resume", async () => {
    const pid = gw.pid;
    await api.kill();

    const page = await call(gw.url("/"), BROWSER);
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain('<a href="mailto:orga@ctf.example">orga@ctf.example</a>');
    expect(page.text).toContain("#support on Discord");
    const apiClient = await call(gw.url("/instances"), { ...AUTH, "x-request-id": "e2e-killed" });
    expect(apiClient.status).toBe(503);
    expect(apiClient.json).toEqual({
      error: {
        code: "maintenance",
        message: "The service is under maintenance; retry in 30 seconds.",
        requestId: "e2e-killed",
        details: { retryAfterSeconds: 30 },
      },
    });

    await api.start();
    const back = await call(gw.url("/challenges"), AUTH);
    expect(back.status).toBe(200);
    expect(gw.pid).toBe(pid);
  });

  it("the restore flag takes the API offline and back without touching nginx", async () => {
    await gw.setMaintenanceFlag(true);
    try {
      const res = await call(gw.url("/challenges"), AUTH);
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("maintenance");
    } finally {
      await gw.setMaintenanceFlag(false);
    }
    expect((await call(gw.url("/challenges"), AUTH)).status).toBe(200);
  });
  it("the API's own 429 passes through as it is, with its code and Retry-After", async () => {
    const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(gw.url(path), {
        method,
        headers: { ...AUTH, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    expect((await send("PUT", "/challenges/web100", { image: testEnv.challengeImage, port: 80 })).status).toBe(201);
    const first = await send("POST", "/assign", { team_id: "t1", challenge_id: "web100" }, { prefer: "respond-async" });
    expect(first.status).toBe(202);
    // The event's capacity (MAX_LIVE_INSTANCES=1) is used up: the API refuses, and the gateway must not mask it.
    const refused = await send("POST", "/assign", { team_id: "t2", challenge_id: "web100" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("capacity_exhausted");
  });
});
