import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import { deriveFlag } from "../../domain/flags.ts";
import { docker } from "../support/docker.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

const SECRET = "flag-secret-for-tests-0123456789abcdef";

describe("dynamic flags", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ env: { FLAG_SECRET: SECRET } });
    const put = await stack.request("PUT", "/challenges/flaggy", {
      body: { image: WEB100.image, port: 80, flag_format: "CTF{{}}" },
    });
    expect(put.status).toBe(201);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  async function containerFlag(instanceId: string): Promise<string | undefined> {
    const row = await stack.api.deps.db.query("SELECT container_id FROM instances WHERE id = $1", [instanceId]);
    const info = await docker.getContainer(row.rows[0].container_id).inspect();
    return info.Config.Env.find((e) => e.startsWith("FLAG="))?.slice(5);
  }

  it("injects a per-team HMAC flag and tells correct, wrong and another team's flag apart; the flag outlives the container", async () => {
    const a = await stack.request("POST", "/assign", { body: { team_id: "ta", challenge_id: "flaggy" } });
    const b = await stack.request("POST", "/assign", { body: { team_id: "tb", challenge_id: "flaggy" } });
    const flagA = await containerFlag(a.body.instance_id);
    const flagB = await containerFlag(b.body.instance_id);
    expect(flagA).toBe(deriveFlag(SECRET, "ta", "flaggy", "CTF{{}}"));
    expect(flagA).toMatch(/^CTF\{[0-9a-f]{32}\}$/);
    expect(flagB).not.toBe(flagA);

    const verify = (team: string, flag: string) =>
      stack.request("POST", "/flags/verify", { body: { team_id: team, challenge_id: "flaggy", flag } });
    expect((await verify("ta", flagA!)).body).toEqual({ result: "correct" });
    expect((await verify("ta", "CTF{0000}")).body).toEqual({ result: "wrong" });
    expect((await verify("ta", flagB!)).body).toEqual({ result: "other_team" });

    const cheats = await stack.api.deps.db.query(
      "SELECT team_id, owner_team_id FROM flag_submissions WHERE result = 'other_team'",
    );
    expect(cheats.rows).toEqual([{ team_id: "ta", owner_team_id: "tb" }]);

    await stack.request("POST", "/remove", { body: { team_id: "tb", challenge_id: "flaggy" } });
    expect((await verify("tb", flagB!)).body).toEqual({ result: "correct" });
    expect((await verify("ta", flagB!)).body).toEqual({ result: "other_team" });
  });

  it("a flag_format needs FLAG_SECRET; a challenge without one refuses verification", async () => {
    const plain = await stack.request("POST", "/flags/verify", {
      body: { team_id: "ta", challenge_id: "web100", flag: "x" },
    });
    expect(plain.status).toBe(409);
    const noSecret = await TestStack.start({ worker: false });
    try {
      const put = await noSecret.request("PUT", "/challenges/f2", {
        body: { image: WEB100.image, port: 80, flag_format: "flag{{}}" },
      });
      expect(put.status).toBe(400);
      expect(put.body.error.message).toMatch(/FLAG_SECRET/);
    } finally {
      await noSecret.stop();
    }
  });
});

describe("metrics", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ env: { MAX_LIVE_INSTANCES: "10" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("the API serves instances by state, remaining capacity and queue depth; the worker serves start latency and failures", async () => {
    expect((await stack.request("POST", "/assign", { body: { team_id: "m1", challenge_id: "web100" } })).status).toBe(
      200,
    );
    await stack.request("PUT", "/challenges/broken", { body: { image: "ctf-instancer/absent:1", port: 80 } });
    await stack.request("POST", "/assign", { body: { team_id: "m1", challenge_id: "broken" } });

    const api = await stack.request("GET", "/metrics");
    expect(api.status).toBe(200);
    expect(api.headers.get("content-type")).toMatch(/text\/plain/);
    expect(api.body).toMatch(/ctfi_instances\{state="running"\} 1/);
    expect(api.body).toMatch(/ctfi_instances\{state="failed"\} 1/);
    expect(api.body).toMatch(/ctfi_capacity_remaining 9/);
    expect(api.body).toMatch(/ctfi_queue_jobs\{status="waiting"\} \d+/);
    expect((await stack.request("GET", "/metrics", { token: null })).status).toBe(401);

    await stack.worker!.close();
    const worker = await stack.startWorkerWith({ METRICS_PORT: "0" });
    expect(worker.metricsServer).toBeNull();
    await worker.close();
    const withPort = await stack.startWorkerWith({ METRICS_PORT: String(await freePort()) });
    const port = (withPort.metricsServer!.address() as AddressInfo).port;
    await stack.request("POST", "/assign", { body: { team_id: "m2", challenge_id: "web100" } });
    await stack.request("POST", "/assign", { body: { team_id: "m2", challenge_id: "broken" } });
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/ctfi_instance_start_seconds_count 1/);
    expect(text).toMatch(/ctfi_instance_failures_total\{reason="image_missing"\} 1/);
    expect(text).toMatch(/ctfi_instances\{state="running"\} 2/);
  });

  it("the worker's metrics listen on loopback unless METRICS_HOST says otherwise", async () => {
    await stack.worker!.close();
    const loopback = await stack.startWorkerWith({ METRICS_PORT: String(await freePort()) });
    expect((loopback.metricsServer!.address() as AddressInfo).address).toBe("127.0.0.1");
    await loopback.close();
    const all = await stack.startWorkerWith({ METRICS_PORT: String(await freePort()), METRICS_HOST: "0.0.0.0" });
    expect((all.metricsServer!.address() as AddressInfo).address).toBe("0.0.0.0");
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
