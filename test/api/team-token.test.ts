import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type RunningApi } from "../../api/host.ts";
import { TestStack } from "../support/stack.ts";
import { TEAM_TOKEN_SECRET, teamToken, unsignedToken } from "../support/team-token.ts";
import { holdAnswersToDocument } from "./openapi-check.ts";

const respondAsync = { prefer: "respond-async" };

describe("team tokens", () => {
  let stack: TestStack;
  let alpha: string;
  let bravo: string;
  beforeAll(async () => {
    stack = await TestStack.start({ env: { TEAM_TOKEN_SECRET } });
    [alpha, bravo] = await Promise.all([teamToken("alpha"), teamToken("bravo")]);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("assign, read, list, extend and remove the team's own instance", async () => {
    const assigned = await stack.request("POST", "/assign", {
      token: alpha,
      body: { team_id: "alpha", challenge_id: "web100" },
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body.team_id).toBe("alpha");
    const id = assigned.body.instance_id as string;

    expect((await stack.request("GET", `/instances/${id}`, { token: alpha })).body.state).toBe("running");
    const listed = await stack.request("GET", "/instances", { token: alpha });
    expect(listed.status).toBe(200);
    expect(listed.body.instances.map((i: any) => i.instance_id)).toEqual([id]);
    expect((await stack.request("GET", "/instances?team_id=alpha", { token: alpha })).status).toBe(200);

    // Renewal opens RENEW_WINDOW_SECONDS (900 s) before expiry, and a fresh instance has an hour: the team token
    // reaches the renewal rule, which refuses for its own reason.
    const extend = await stack.request("POST", "/extend", {
      token: alpha,
      body: { team_id: "alpha", challenge_id: "web100" },
    });
    expect(extend.status).toBe(409);
    expect(extend.body.error.code).toBe("renewal_not_open");

    const removed = await stack.request("POST", "/remove", {
      token: alpha,
      body: { team_id: "alpha", challenge_id: "web100" },
    });
    expect(removed.status).toBe(200);
    expect(removed.body.state).toBe("removed");
  });

  it("refuses another team's instances with 403 and the envelope, and lists only the team's own", async () => {
    const own = await stack.request("POST", "/assign", {
      token: bravo,
      headers: respondAsync,
      body: { team_id: "bravo", challenge_id: "web100" },
    });
    expect(own.status).toBe(202);
    const id = own.body.instance_id as string;

    for (const path of ["/assign", "/remove", "/extend"]) {
      const res = await stack.request("POST", path, {
        token: alpha,
        headers: respondAsync,
        body: { team_id: "bravo", challenge_id: "web100" },
      });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code, path).toBe("forbidden");
      expect(res.body.error.requestId, path).toEqual(expect.any(String));
    }
    expect((await stack.request("GET", `/instances/${id}`, { token: alpha })).status).toBe(403);
    expect((await stack.request("GET", "/instances?team_id=bravo", { token: alpha })).status).toBe(403);
    const alphaList = await stack.request("GET", "/instances", { token: alpha });
    expect(alphaList.body.instances.map((i: any) => i.team_id)).not.toContain("bravo");
    // The refused calls changed nothing: bravo's instance is still bravo's, and alive.
    const still = await stack.request("GET", `/instances/${id}`, { token: bravo });
    expect(still.body.team_id).toBe("bravo");
    expect(["requested", "starting", "running"]).toContain(still.body.state);
  });

  it("never reaches the catalogue, the metrics, flags or the organiser's endpoints (403)", async () => {
    const calls: [string, string, unknown?][] = [
      ["GET", "/challenges"],
      ["GET", "/challenges/web100"],
      ["PUT", "/challenges/web100", { image: "x", port: 80 }],
      ["DELETE", "/challenges/web100"],
      ["GET", "/metrics"],
      ["POST", "/flags/verify", { team_id: "alpha", challenge_id: "web100", flag: "x" }],
      ["GET", "/admin/summary"],
      ["GET", "/admin/events"],
      ["POST", "/admin/challenges/web100/remove-all", { confirm: "web100" }],
    ];
    for (const [method, path, body] of calls) {
      const res = await stack.request(method, path, { token: alpha, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code, `${method} ${path}`).toBe("forbidden");
    }
    // Without any token the catalogue stays 401 as before.
    expect((await stack.request("GET", "/challenges", { token: null })).status).toBe(401);
  });

  it("answers 401 to expired, forged, malformed, unsigned and other-algorithm tokens", async () => {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const [header, , signature] = alpha.split(".");
    const cases: Record<string, string> = {
      expired: await teamToken("alpha", { expiresInSeconds: -60 }),
      "signed with another key": await teamToken("alpha", { secret: "another-secret-0123456789abcdef0123456" }),
      "payload swapped under the signature": `${header}.${b64({ team_id: "bravo", exp: now + 600 })}.${signature}`,
      "alg none": unsignedToken("alpha"),
      HS512: await teamToken("alpha", { alg: "HS512" }),
      "three dots of nothing": "a.b.c",
      "no exp": `${header}.${b64({ team_id: "alpha" })}.${signature}`,
      "not a JWT": "garbage-token-that-is-long-enough",
    };
    for (const [what, token] of Object.entries(cases)) {
      const res = await stack.request("GET", "/instances", { token });
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe("unauthorized");
      expect(JSON.stringify(res.body), what).not.toContain(token);
    }
    // A well-signed token whose team_id is not a team id.
    const { SignJWT } = await import("jose");
    const odd = await new SignJWT({ team_id: "<b>Alpha</b>" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(TEAM_TOKEN_SECRET));
    expect((await stack.request("GET", "/instances", { token: odd })).status).toBe(401);
  });

  it("is declared in the OpenAPI document: a JWT bearer scheme, on the team's operations only", async () => {
    const doc = (await stack.request("GET", "/openapi.json", { token: null })).body;
    expect(doc.components.securitySchemes.teamToken).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    const schemes = (path: string, method: string) =>
      (doc.paths[path][method].security as Record<string, unknown>[]).flatMap((s) => Object.keys(s)).sort();
    for (const [path, method] of [
      ["/assign", "post"],
      ["/remove", "post"],
      ["/extend", "post"],
      ["/instances", "get"],
      ["/instances/{id}", "get"],
    ])
      expect(schemes(path!, method!), `${method} ${path}`).toEqual(["bearer", "teamToken"]);
    for (const [path, method] of [
      ["/challenges", "get"],
      ["/metrics", "get"],
      ["/flags/verify", "post"],
      ["/admin/summary", "get"],
    ]) {
      expect(schemes(path!, method!), `${method} ${path}`).toEqual(["bearer"]);
      expect(doc.paths[path!][method!].responses["403"], `${method} ${path}`).toBeDefined();
    }
  });

  it("keeps admin tokens working everywhere", async () => {
    expect((await stack.request("GET", "/instances?team_id=bravo")).status).toBe(200);
    expect((await stack.request("GET", "/challenges")).status).toBe(200);
    expect((await stack.request("GET", "/admin/summary")).status).toBe(200);
  });
});

describe("team tokens without TEAM_TOKEN_SECRET, and in the logs", () => {
  let stack: TestStack;
  let logged: RunningApi;
  const lines: string[] = [];
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false, assignWaitSeconds: 0 });
    // A second API on the same database, logging everything at trace level into `lines`.
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    logged = await startApi({ ...stack.apiConfig(), TEAM_TOKEN_SECRET }, pino({ level: "trace" }, sink));
  });
  afterAll(async () => {
    await logged?.close();
    await stack?.stop();
  });

  it("refuses a well-signed team token when no secret is configured", async () => {
    const res = await stack.request("GET", "/instances", { token: await teamToken("alpha") });
    expect(res.status).toBe(401);
  });

  it("never writes a token, good or bad, into a log line", async () => {
    const good = await teamToken("alpha");
    const forged = await teamToken("alpha", { secret: "another-secret-0123456789abcdef0123456" });
    const expired = await teamToken("alpha", { expiresInSeconds: -5 });
    for (const token of [good, forged, expired]) {
      const res = await fetch(`${logged.url}/instances`, { headers: { authorization: `Bearer ${token}` } });
      await res.body?.cancel();
    }
    const body = JSON.stringify({ team_id: "bravo", challenge_id: "web100" });
    const refused = await fetch(`${logged.url}/assign`, {
      method: "POST",
      headers: { authorization: `Bearer ${good}`, "content-type": "application/json" },
      body,
    });
    expect(refused.status).toBe(403);
    const text = lines.join("");
    expect(lines.filter((l) => l.includes('"msg":"request"')).length).toBeGreaterThanOrEqual(4);
    for (const token of [good, forged, expired]) for (const part of token.split(".")) expect(text).not.toContain(part);
  });
});
