import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentContainers } from "../support/docker.ts";
import { TestStack } from "../support/stack.ts";

const valid = { team_id: "team1", challenge_id: "web100" };

describe("bad input gets a 4xx envelope and creates nothing", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false, assignWaitSeconds: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function expectNothingCreated() {
    const rows = await stack.api.deps.db.query("SELECT count(*)::int AS n FROM instances");
    expect(rows.rows[0].n).toBe(0);
    expect(await deploymentContainers(stack.deployment)).toHaveLength(0);
  }

  function expectEnvelope(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe("string");
    expect(res.body.error.message.length).toBeGreaterThan(5);
    expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
  }

  const cases: [string, { body?: unknown; token?: string | null; headers?: Record<string, string> }, number, string][] =
    [
      ["malformed JSON", { body: '{"team_id": "team1",' }, 400, "invalid_json"],
      ["missing team_id", { body: { challenge_id: "web100" } }, 400, "validation_failed"],
      ["missing challenge_id", { body: { team_id: "team1" } }, 400, "validation_failed"],
      ["upper-case team id", { body: { ...valid, team_id: "Team1" } }, 400, "validation_failed"],
      ["id with a slash", { body: { ...valid, challenge_id: "web/100" } }, 400, "validation_failed"],
      ["id of 65 characters", { body: { ...valid, team_id: "a".repeat(65) } }, 400, "validation_failed"],
      ["numeric team id", { body: { ...valid, team_id: 1 } }, 400, "validation_failed"],
      ["unknown field", { body: { ...valid, extra: true } }, 400, "validation_failed"],
      ["JSON array body", { body: [valid] }, 400, "validation_failed"],
      ["unknown challenge", { body: { ...valid, challenge_id: "nope" } }, 404, "not_found"],
      ["body over 16 KiB", { body: { ...valid, pad: "x".repeat(17 * 1024) } }, 413, "payload_too_large"],
      [
        "wrong content type",
        { body: JSON.stringify(valid), headers: { "content-type": "text/plain" } },
        415,
        "unsupported_media_type",
      ],
      ["no token", { body: valid, token: null }, 401, "unauthorized"],
      ["wrong token", { body: valid, token: "wrong-token-0123456789abcdef" }, 401, "unauthorized"],
    ];

  for (const path of ["/assign", "/remove"]) {
    for (const [name, opts, status, code] of cases) {
      if (path === "/remove" && code === "not_found") continue; // remove answers 404 for "nothing live" instead
      it(`${path}: ${name} → ${status} ${code}`, async () => {
        expectEnvelope(await stack.request("POST", path, opts), status, code);
        await expectNothingCreated();
      });
    }
  }

  it("remove with nothing live → 404", async () => {
    expectEnvelope(await stack.request("POST", "/remove", { body: valid }), 404, "not_found");
  });

  it("instance lookups: malformed id → 400, unknown id → 404, bad filters → 400", async () => {
    expectEnvelope(await stack.request("GET", "/instances/not-a-uuid"), 400, "validation_failed");
    expectEnvelope(await stack.request("GET", "/instances/5b0f1b9e-0d7a-4c2e-9a59-1f1f2b6f3c11"), 404, "not_found");
    expectEnvelope(await stack.request("GET", "/instances?state=sleeping"), 400, "validation_failed");
    expectEnvelope(await stack.request("GET", "/instances?limit=0"), 400, "validation_failed");
    expectEnvelope(await stack.request("GET", "/instances?cursor=garbage"), 400, "validation_failed");
  });

  it("challenge writes are validated", async () => {
    expectEnvelope(await stack.request("PUT", "/challenges/x1", { body: { image: "a" } }), 400, "validation_failed");
    expectEnvelope(
      await stack.request("PUT", "/challenges/x1", { body: { image: "a", port: 70000 } }),
      400,
      "validation_failed",
    );
    expectEnvelope(
      await stack.request("PUT", "/challenges/Bad_Id", { body: { image: "a", port: 80 } }),
      400,
      "validation_failed",
    );
    expectEnvelope(await stack.request("DELETE", "/challenges/absent"), 404, "not_found");
    expectEnvelope(await stack.request("GET", "/challenges", { token: null }), 401, "unauthorized");
  });

  it("unknown paths answer 404 with the envelope; health needs no token", async () => {
    expectEnvelope(await stack.request("GET", "/nowhere"), 404, "not_found");
    const health = await stack.request("GET", "/healthz", { token: null });
    expect(health).toMatchObject({ status: 200, body: { status: "ok" } });
    const ready = await stack.request("GET", "/readyz", { token: null });
    expect(ready).toMatchObject({ status: 200, body: { status: "ready" } });
  });
});
