import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateRedis } from "../support/private-redis.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("Redis restarted without its data", () => {
  const redis = new PrivateRedis();
  let stack: TestStack;
  beforeAll(async () => {
    await redis.start();
    stack = await TestStack.start({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });
  holdAnswersToDocument(() => stack);

  it("the worker makes its schedules again, so expiry still holds", async () => {
    const assigned = await stack.request("POST", "/assign", { body: { team_id: "amnesia", challenge_id: "web100" } });
    expect(assigned.status).toBe(200);

    // Same port, no persistence: every schedule, delayed expiry timer and job is gone.
    await redis.stop();
    await redis.start();
    await waitUntil("schedules made again", async () => (await stack.worker!.deps.queue.getJobSchedulersCount()) === 2);

    await stack.api.deps.db.query("UPDATE instances SET expires_at = now() + interval '1 second' WHERE id = $1", [
      assigned.body.instance_id,
    ]);
    const gone = await waitUntil(
      "instance expired by the sweeper",
      async () => {
        const row = (await stack.request("GET", `/instances/${assigned.body.instance_id}`)).body;
        return row.state === "removed" ? row : null;
      },
      20_000,
    );
    expect(gone.state_reason).toBe("expired");
  });
});
