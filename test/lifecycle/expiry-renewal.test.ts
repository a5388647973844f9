import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownLab } from "../support/lab.ts";
import { engines, type EngineUnderTest } from "../support/engines.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe.each(engines(ownLab("expi")))("expiry on $name", (choice) => {
  let engine: EngineUnderTest;
  let stack: TestStack;
  beforeAll(async () => {
    engine = await choice.up();
    stack = await engine.start();
    const image = (await stack.request("GET", "/challenges")).body.challenges[0].image;
    await stack.request("PUT", "/challenges/short", { body: { image, port: 80, ttl_seconds: 5 } });
  });
  afterAll(async () => {
    await stack?.stop();
    await engine?.close();
  });
  holdAnswersToDocument(() => stack);

  it("every running instance carries expires_at = start + ttl and is removed within seconds of it", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "brief", challenge_id: "short" } });
    expect(res.status).toBe(200);
    const expiresAt = Date.parse(res.body.expires_at);
    expect(expiresAt - Date.parse(res.body.started_at)).toBeGreaterThanOrEqual(4900);
    expect(expiresAt - Date.parse(res.body.started_at)).toBeLessThanOrEqual(5100);
    const gone = await waitUntil(
      "instance expired",
      async () => {
        const r = await stack.request("GET", `/instances/${res.body.instance_id}`);
        return r.body.state === "removed" ? r.body : null;
      },
      20_000,
    );
    expect(gone.state_reason).toBe("expired");
    expect(Date.parse(gone.removed_at) - expiresAt).toBeLessThan(3000);
    expect(await engine.workloads(stack.deployment)).toHaveLength(0);
  });

  it("a lost expiry timer does not leak the workload: the sweeper ends it", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "forgotten", challenge_id: "web100" } });
    expect(res.status).toBe(200);
    // Lose every timer, then let the instance's time run out.
    for (const job of await stack.worker!.deps.queue.getDelayed()) if (job.name === "expire") await job.remove();
    await stack.api.deps.db.query("UPDATE instances SET expires_at = now() + interval '1 second' WHERE id = $1", [
      res.body.instance_id,
    ]);
    const gone = await waitUntil(
      "sweeper removed the expired instance",
      async () => {
        const r = await stack.request("GET", `/instances/${res.body.instance_id}`);
        return r.body.state === "removed" ? r.body : null;
      },
      20_000,
    );
    expect(gone.state_reason).toBe("expired");
    const left = (await engine.workloads(stack.deployment)).filter((l) =>
      Object.values(l).includes(res.body.instance_id),
    );
    expect(left).toHaveLength(0);
  });
});

describe("renewal inside the window", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ env: { RENEW_WINDOW_SECONDS: "3600", MAX_LIFETIME_SECONDS: "900" } });
    const image = (await stack.request("GET", "/challenges")).body.challenges[0].image;
    await stack.request("PUT", "/challenges/renewable", { body: { image, port: 80, ttl_seconds: 400 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("extends by the TTL inside the window and stops at the maximum lifetime", async () => {
    const body = { team_id: "keen", challenge_id: "renewable" };
    const assigned = await stack.request("POST", "/assign", { body });
    expect(assigned.status).toBe(200);
    const firstExpiry = Date.parse(assigned.body.expires_at);
    // The window (3600 s) is longer than the ttl (400 s), so renewal is open from the start.
    expect(Date.parse(assigned.body.renewable_at)).toBe(firstExpiry - 3_600_000);

    const renewed = await stack.request("POST", "/extend", { body });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.expires_at)).toBe(firstExpiry + 400_000);
    expect(renewed.body.renewals).toBe(1);

    // The next renewal would pass started_at + 900 s: it is capped there, then refused.
    const capped = await stack.request("POST", "/extend", { body });
    expect(capped.status).toBe(200);
    expect(Date.parse(capped.body.expires_at)).toBe(Date.parse(assigned.body.started_at) + 900_000);
    const refused = await stack.request("POST", "/extend", { body });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("max_lifetime_reached");
  });

  it("refuses to renew what is not running", async () => {
    const none = await stack.request("POST", "/extend", { body: { team_id: "nobody", challenge_id: "renewable" } });
    expect(none.status).toBe(404);
  });
});

describe("cooldown and the lifetime cap", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({
      env: { COOLDOWN_SECONDS: "3", RENEW_WINDOW_SECONDS: "60", MAX_LIFETIME_SECONDS: "900" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("an instance that expired starts no cooldown: the team may assign again at once", async () => {
    const body = { team_id: "expired", challenge_id: "web100" };
    const first = await stack.request("POST", "/assign", { body });
    expect(first.status).toBe(200);
    await stack.api.deps.db.query("UPDATE instances SET expires_at = now() WHERE id = $1", [first.body.instance_id]);
    await waitUntil(
      "instance expired",
      async () => (await stack.request("GET", `/instances/${first.body.instance_id}`)).body.state === "removed",
      20_000,
    );
    const again = await stack.request("POST", "/assign", { body, headers: { prefer: "respond-async" } });
    expect(again.status).toBe(202);
    expect(again.body.instance_id).not.toBe(first.body.instance_id);
  });

  it("extend at the lifetime cap answers max_lifetime_reached at once, even before the window opens; below it, renewal_not_open", async () => {
    const body = { team_id: "capped", challenge_id: "web100" };
    const assigned = await stack.request("POST", "/assign", { body });
    expect(assigned.status).toBe(200);
    // Expiry already at start + MAX_LIFETIME_SECONDS, far outside the 60 s renewal window.
    await stack.api.deps.db.query(
      "UPDATE instances SET expires_at = started_at + interval '900 seconds' WHERE id = $1",
      [assigned.body.instance_id],
    );
    const refused = await stack.request("POST", "/extend", { body });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("max_lifetime_reached");
    expect(refused.headers.get("retry-after")).toBeNull();

    // Below the cap but far from expiry, the window is closed: 409 with the time it opens and a Retry-After.
    await stack.api.deps.db.query(
      "UPDATE instances SET started_at = now(), expires_at = now() + interval '300 seconds' WHERE id = $1",
      [assigned.body.instance_id],
    );
    const early = await stack.request("POST", "/extend", { body });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("renewal_not_open");
    const retryAfter = Number(early.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(230);
    expect(retryAfter).toBeLessThanOrEqual(240);
  });
});
