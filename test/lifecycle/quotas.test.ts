import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownLab } from "../support/lab.ts";
import { engines, type EngineUnderTest } from "../support/engines.ts";
import { WEB100, type TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe.each(engines(ownLab("quot")))("quotas and pacing on $name", (choice) => {
  let engine: EngineUnderTest;
  let stack: TestStack;
  beforeAll(async () => {
    engine = await choice.up();
    stack = await engine.start({
      env: { TEAM_MAX_INSTANCES: "3", MAX_LIVE_INSTANCES: "5", COOLDOWN_SECONDS: "2" },
    });
    for (let i = 0; i < 30; i++)
      await stack.request("PUT", `/challenges/c${i}`, { body: { image: WEB100.image, port: 80, memory_mb: 32 } });
  });
  afterAll(async () => {
    await stack?.stop();
    await engine?.close();
  });
  holdAnswersToDocument(() => stack);

  it("a team with quota 3 sending 30 concurrent assigns over different challenges ends with exactly 3", async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stack.request("POST", "/assign", {
          body: { team_id: "greedy", challenge_id: `c${i}` },
          headers: { prefer: "respond-async" },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(3);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(27);
    expect(refused[0]!.body.error.code).toBe("team_quota_exceeded");
    expect(refused[0]!.body.error.message).toMatch(/maximum/);
    const live = await stack.api.deps.db.query(
      "SELECT count(*)::int AS n FROM instances WHERE team_id = 'greedy' AND state <> 'failed'",
    );
    expect(live.rows[0].n).toBe(3);
  });

  it("the global cap refuses with capacity_exhausted and Retry-After once the event is full", async () => {
    for (const [team, challenge] of [
      ["other1", "c0"],
      ["other2", "c0"],
    ])
      expect(
        (await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: challenge } })).status,
      ).toBe(200);
    const full = await stack.request("POST", "/assign", { body: { team_id: "late", challenge_id: "c0" } });
    expect(full.status).toBe(429);
    expect(full.body.error.code).toBe("capacity_exhausted");
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("a cooldown paces assign and remove of one instance, with Retry-After", async () => {
    const body = { team_id: "other1", challenge_id: "c0" };
    const live = await stack.request("GET", "/instances?team_id=other1&state=running");
    const createdAt = Date.parse(live.body.instances[0].created_at);
    if (Date.now() - createdAt < 1500) {
      const early = await stack.request("POST", "/remove", { body });
      expect(early.status).toBe(429);
      expect(early.body.error.code).toBe("cooldown");
      expect(Number(early.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    await waitUntil("cooldown after assign", () => Date.now() - createdAt > 2100, 5000);
    expect((await stack.request("POST", "/remove", { body })).status).toBe(200);
    const again = await stack.request("POST", "/assign", { body });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe("cooldown");
    expect(again.headers.get("retry-after")).toMatch(/^[12]$/);
  });
});
