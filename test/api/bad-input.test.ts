import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentContainers } from "../support/docker.ts";
import { TEST_TOKEN, TestStack } from "../support/stack.ts";
import { holdAnswersToDocument } from "./openapi-check.ts";

const valid = { team_id: "team1", challenge_id: "web100" };

describe("bad input gets a 4xx envelope and creates nothing", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({
      worker: false,
      assignWaitSeconds: 0,
      env: { FLAG_SECRET: "flag-secret-0123456789abcdef0123456789" },
    });
    await stack.request("PUT", "/challenges/flagged", { body: { image: "a", port: 80, flag_format: "CTF{{}}" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

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
  });

  it("a cursor this endpoint did not issue → 400 invalid_cursor, whatever JavaScript makes of its date", async () => {
    const uuid = "5b0f1b9e-0d7a-4c2e-9a59-1f1f2b6f3c11";
    const forged = [
      "1",
      "0",
      "March 7",
      "2026-02-30T00:00:00Z",
      "2026-02-30T00:00:00.000Z",
      "+275760-09-13T00:00:00.000Z",
    ];
    const cursors = [
      "garbage",
      ...forged.map((date) => Buffer.from(`${date}|${uuid}`).toString("base64url")),
      Buffer.from(`0000-01-01T00:00:00.000Z|${uuid}`).toString("base64url"),
      Buffer.from(`2026-01-01T00:00:00.000Z|not-a-uuid`).toString("base64url"),
      Buffer.from(`2026-01-01T00:00:00.000Z|${uuid}`).toString("base64url"),
      // A well-formed id of no instance: not one this endpoint issued either.
      Buffer.from(uuid).toString("base64url"),
    ];
    for (const cursor of cursors)
      expectEnvelope(
        await stack.request("GET", `/instances?cursor=${encodeURIComponent(cursor)}`),
        400,
        "invalid_cursor",
      );
  });

  it("a NUL character in text bound for the database → 400 naming the field", async () => {
    const flag = await stack.request("POST", "/flags/verify", {
      body: { team_id: "team1", challenge_id: "flagged", flag: "CTF{\u0000}" },
    });
    expectEnvelope(flag, 400, "validation_failed");
    expect(flag.body.error.message).toMatch(/'flag'.*NUL/);
    const env = await stack.request("PUT", "/challenges/nul1", {
      body: { image: "a", port: 80, env: { A: "x\u0000" } },
    });
    expectEnvelope(env, 400, "validation_failed");
    expect(env.body.error.message).toMatch(/'env\.A'.*NUL/);
    const format = await stack.request("PUT", "/challenges/nul1", {
      body: { image: "a", port: 80, flag_format: "CTF{{}}\u0000" },
    });
    expectEnvelope(format, 400, "validation_failed");
    expect(format.body.error.message).toMatch(/'flag_format'.*NUL/);
  });

  it("an unpaired surrogate in text bound for the database → 400 naming the field", async () => {
    const env = await stack.request("PUT", "/challenges/sur1", {
      body: '{"image":"a","port":80,"env":{"A":"x\\ud800"}}',
    });
    expectEnvelope(env, 400, "validation_failed");
    expect(env.body.error.message).toMatch(/'env\.A'.*surrogate/);
    const flag = await stack.request("POST", "/flags/verify", {
      body: '{"team_id":"team1","challenge_id":"flagged","flag":"CTF{\\udc00}"}',
    });
    expectEnvelope(flag, 400, "validation_failed");
    expect(flag.body.error.message).toMatch(/'flag'.*surrogate/);
    const paired = await stack.request("PUT", "/challenges/sur1", {
      body: '{"image":"a","port":80,"env":{"A":"\\ud83d\\ude00"}}',
    });
    expect(paired.status).toBe(201);
  });

  it("cpus below what the engine runs (a hundredth) → 400; a hundredth is accepted", async () => {
    for (const cpus of [0.0001, 1e-9, 0.001, 0.009]) {
      const res = await stack.request("PUT", "/challenges/tiny", { body: { image: "a", port: 80, cpus } });
      expectEnvelope(res, 400, "validation_failed");
      expect(res.body.error.message).toMatch(/'cpus'/);
    }
    const ok = await stack.request("PUT", "/challenges/tiny", { body: { image: "a", port: 80, cpus: 0.01 } });
    expect(ok).toMatchObject({ status: 201, body: { cpus: 0.01 } });
  });

  it("headers over 16 KiB and bytes that are not HTTP get the envelope too, not Node's bare status line", async () => {
    const big = await stack.request("GET", "/challenges", { headers: { "x-filler": "a".repeat(20_000) } });
    expectEnvelope(big, 431, "headers_too_large");

    const { port } = new URL(stack.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => socket.write("NOT HTTP AT ALL\r\n\r\n"));
      let text = "";
      socket.on("data", (d: Buffer) => (text += d.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(body.error).toMatchObject({ code: "bad_request", message: "the request is not valid HTTP" });
  });

  it("the Authorization scheme name is case-insensitive", async () => {
    for (const scheme of ["bearer", "BEARER", "Bearer"])
      expect(
        (
          await stack.request("GET", "/challenges", {
            token: null,
            headers: { authorization: `${scheme} ${TEST_TOKEN}` },
          })
        ).status,
      ).toBe(200);
    expectEnvelope(
      await stack.request("GET", "/challenges", { token: null, headers: { authorization: `Basic ${TEST_TOKEN}` } }),
      401,
      "unauthorized",
    );
  });

  it("limit is plain decimal digits from 1 to 200; a repeated query parameter is refused", async () => {
    for (const limit of ["0x10", "%205", "5%20", "1e2", "+5", "05", "5.0", "201", ""])
      expectEnvelope(await stack.request("GET", `/instances?limit=${limit}`), 400, "validation_failed");
    for (const limit of ["1", "50", "200"])
      expect((await stack.request("GET", `/instances?limit=${limit}`)).status).toBe(200);
    const repeated = await stack.request("GET", "/instances?state=running&state=failed");
    expectEnvelope(repeated, 400, "validation_failed");
    expect(repeated.body.error.message).toMatch(/'state'.*given 2 times/);
    expectEnvelope(await stack.request("GET", "/instances?limit=5&limit=6"), 400, "validation_failed");
  });

  it("an env key __proto__ is refused, not dropped", async () => {
    const res = await stack.request("PUT", "/challenges/proto", {
      body: '{"image":"a","port":80,"env":{"__proto__":"x","B":"y"}}',
    });
    expectEnvelope(res, 400, "validation_failed");
    expect(res.body.error.message).toMatch(/__proto__/);
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
