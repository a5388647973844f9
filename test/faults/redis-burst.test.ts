import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL } from "../../worker/docker/labels.ts";
import { deploymentContainers } from "../support/docker.ts";
import { PrivateRedis } from "../support/private-redis.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("Redis stopped in the middle of a burst", () => {
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

  // Budget: the reconnect wait and 36 container starts, which on two busy cores take well over a minute.
  it("answers 503 fast while it is down and loses nothing once it returns", { timeout: 240_000 }, async () => {
    const assign = async (team: string) => {
      const started = Date.now();
      const res = await stack.request("POST", "/assign", {
        body: { team_id: team, challenge_id: "web100" },
        headers: { prefer: "respond-async" },
      });
      return { team, status: res.status, ms: Date.now() - started };
    };
    const before = await Promise.all(Array.from({ length: 10 }, (_, i) => assign(`pre${i}`)));
    const stopping = redis.stop();
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => assign(`mid${i}`)));
    await stopping;
    const afterStop = await Promise.all(Array.from({ length: 5 }, (_, i) => assign(`down${i}`)));

    for (const a of [...before, ...during, ...afterStop]) expect([202, 503]).toContain(a.status);
    for (const a of [...during, ...afterStop].filter((x) => x.status === 503)) expect(a.ms).toBeLessThan(2000);
    expect(afterStop.every((a) => a.status === 503)).toBe(true);

    await redis.start();
    // Clients retry what was refused; everything accepted before must come up without help.
    const refused = [...before, ...during, ...afterStop].filter((a) => a.status === 503);
    await waitUntil("queue reachable again", async () => (await assign("probe")).status === 202, 20_000);
    for (const a of refused) expect((await assign(a.team)).status).toBe(202);

    let states: Record<string, number> = {};
    const rows = await waitUntil(
      "every instance running",
      async () => {
        const r = await stack.api.deps.db.query("SELECT id, state, error FROM instances");
        states = Object.fromEntries(
          Object.entries(Object.groupBy(r.rows, (row) => `${row.state}${row.error ? `: ${row.error}` : ""}`)).map(
            ([k, v]) => [k, v!.length],
          ),
        );
        return r.rows.every((row) => row.state === "running") ? r.rows : null;
      },
      180_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; states then: ${JSON.stringify(states)}`);
    });
    expect(rows).toHaveLength(36);
    const containers = await deploymentContainers(stack.deployment);
    expect(new Set(containers.map((c) => c.Labels[LABEL.instanceId])).size).toBe(36);
    expect(containers).toHaveLength(36);
  });
});
