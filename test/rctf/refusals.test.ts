import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateRedis } from "../support/private-redis.ts";
import { TestStack } from "../support/stack.ts";
import { validateDocument } from "../api/openapi-check.ts";
import { forms, RCTF_TOKEN, RctfClient, type TeamChallenge } from "./rctf-client.ts";

// Refusals a player meets under load and failure, each an instancerError they can read. No worker: instances
// stay `starting`, which is all these need.
describe("rCTF protocol refusals: cooldown, capacity, outages, internal failures", () => {
  const redis = new PrivateRedis();
  let stack: TestStack;
  let rctf: RctfClient;
  beforeAll(async () => {
    await redis.start();
    stack = await TestStack.start({
      worker: false,
      redisUrl: redis.url,
      env: {
        RCTF_AUTH_TOKEN: RCTF_TOKEN,
        RCTF_BASE_PATH: "/platforms/rctf",
        COOLDOWN_SECONDS: "60",
        MAX_LIVE_INSTANCES: "2",
      },
    });
    rctf = new RctfClient(`${stack.url}/platforms/rctf`);
  });
  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });
  afterAll(() => {
    expect(rctf.problems, "replies outside rCTF's two shapes").toEqual([]);
  });
  const team = (): TeamChallenge => ({ teamId: randomUUID(), challengeIntegrationId: "web100" });

  it("is mounted at RCTF_BASE_PATH only, and described there in a valid OpenAPI document", async () => {
    expect((await rctf.details("status", forms.status(team()))).status).toBe("stopped");
    const elsewhere = await fetch(`${stack.url}/rctf/v1/instances/`, {
      method: "POST",
      body: JSON.stringify(forms.status(team())),
    });
    expect(elsewhere.status).toBe(404);
    const doc = (await stack.request("GET", "/openapi.json", { token: null })).body;
    expect(await validateDocument(doc)).toMatchObject({ valid: true });
    expect(Object.keys(doc.paths["/platforms/rctf/v1/instances/"]).sort()).toEqual(["delete", "patch", "post", "put"]);
  });

  it("a stop right after the start waits for the cooldown; a full event refuses more starts", async () => {
    const a = team();
    expect((await rctf.details("start", forms.start(a))).status).toBe("starting");
    const cooldown = await rctf.error("stop", forms.stop(a));
    expect(cooldown.status).toBe(429);
    expect(cooldown.message).toMatch(/started moments ago\. Wait \d+ s before stopping it/);

    expect((await rctf.details("start", forms.start(team()))).status).toBe("starting");
    const full = await rctf.error("start", forms.start(team()));
    expect(full.status).toBe(429);
    expect(full.message).toMatch(/Every instance of this event is in use/);
  });

  it("a start while the instance stops is refused; right after a stop it waits for the cooldown", async () => {
    await stack.api.deps.db.query("DELETE FROM instances");
    const who = team();
    expect((await rctf.details("start", forms.start(who))).status).toBe("starting");
    // Past the cooldown of its start, it can be stopped; with no worker it stays stopping.
    await stack.api.deps.db.query("UPDATE instances SET created_at = now() - interval '2 minutes' WHERE team_id = $1", [
      who.teamId,
    ]);
    expect((await rctf.details("stop", forms.stop(who))).status).toBe("stopping");
    const stopping = await rctf.error("start", forms.start(who));
    expect(stopping.status).toBe(409);
    expect(stopping.message).toMatch(/is being stopped/);
    // What the worker does once the container is gone: removed on the team's request.
    await stack.api.deps.db.query(
      "UPDATE instances SET state = 'removed', removed_at = now() WHERE team_id = $1 AND state = 'stopping'",
      [who.teamId],
    );
    const cooldown = await rctf.error("start", forms.start(who));
    expect(cooldown.status).toBe(429);
    expect(cooldown.message).toMatch(/You stopped this instance moments ago\. Wait \d+ s before starting it again/);
    expect((await rctf.details("status", forms.status(who))).status).toBe("stopped");
  });

  it("Redis away: start is refused at once, saying to retry; status still answers", async () => {
    await stack.api.deps.db.query("DELETE FROM instances");
    await redis.stop();
    try {
      const who = team();
      const began = Date.now();
      const refused = await rctf.error("start", forms.start(who));
      expect(Date.now() - began).toBeLessThan(3000);
      expect(refused.status).toBe(500);
      expect(refused.message).toMatch(/unavailable for a moment/);
      expect((await rctf.details("status", forms.status(who))).status).toBe("stopped");
    } finally {
      await redis.start();
    }
  });

  it("an internal failure says so without internal detail", async () => {
    const db = stack.api.deps.db;
    await db.query("ALTER TABLE platform_starts RENAME TO platform_starts_away");
    try {
      const refused = await rctf.error("start", forms.start(team()));
      expect(refused.status).toBe(500);
      expect(refused.message).toMatch(/^The instancer failed on this request \([\w-]+\)/);
      expect(refused.message).not.toMatch(/platform_starts|relation|SQL|Error/);
    } finally {
      await db.query("ALTER TABLE platform_starts_away RENAME TO platform_starts");
    }
  });
});
