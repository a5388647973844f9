import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateRedis } from "../support/private-redis.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "./openapi-check.ts";

describe("Redis outage", () => {
  const redis = new PrivateRedis();
  let stack: TestStack;
  beforeAll(async () => {
    await redis.start();
    stack = await TestStack.start({ redisUrl: redis.url, assignWaitSeconds: 20 });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });
  holdAnswersToDocument(() => stack);

  it("readyz and assign answer 503 within 2 s while Redis is down, and work again once it returns", async () => {
    const first = await stack.request("POST", "/assign", { body: { team_id: "before", challenge_id: "web100" } });
    expect(first.status).toBe(200);

    await redis.stop();

    let started = Date.now();
    const ready = await stack.request("GET", "/readyz", { token: null });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({ code: "service_unavailable", details: { checks: { redis: false } } });

    started = Date.now();
    const during = await stack.request("POST", "/assign", { body: { team_id: "during", challenge_id: "web100" } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(during.status).toBe(503);
    expect(during.body.error.code).toBe("service_unavailable");
    expect(during.headers.get("retry-after")).toBeTruthy();

    await redis.start();
    await waitUntil("readyz back to 200", async () => (await stack.request("GET", "/readyz")).status === 200, 20_000);
    const after = await stack.request("POST", "/assign", { body: { team_id: "after", challenge_id: "web100" } });
    expect(after.status).toBe(200);
    expect((await fetch(after.body.container_address)).status).toBe(200);
    // The instance that was still running before the outage is untouched.
    const still = await stack.request("GET", `/instances/${first.body.instance_id}`);
    expect(still.body.state).toBe("running");
  });
});
