import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack } from "../support/stack.ts";
import { prng, type Rng } from "../api/fuzz-values.ts";
import { responseChecker } from "../api/openapi-check.ts";
import { forms, RCTF_TOKEN, shapeProblem, type TeamChallenge } from "./rctf-client.ts";

// Bounded in count and time; the seed is printed so a failure can be replayed with FUZZ_SEED=<seed>.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const TIME_BUDGET_MS = 60_000;

const OVER_LIMIT = 64 * 1024 + 1;
const TEAMS = ["5b0f1b9e-0d7a-4c2e-9a59-1f1f2b6f3c11", "00000000-0000-4000-8000-000000000000", "team1"];
const CHALLENGES = ["web100", "nope", "Web100", ""];
/** Values that break a field: wrong types, edges, text PostgreSQL cannot store, and sizes. */
const HOSTILE: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  "",
  " ",
  "600000",
  true,
  {},
  [],
  [null],
  "\u0000",
  "\ud800",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "x".repeat(5000),
  { provider: "flags/dynamic", flag: "rctf{x}" },
  [{ provider: "flags/dynamic", flag: "\u0000" }],
  [{ provider: 1, flag: "f" }],
  Array.from({ length: 40 }, (_, i) => ({ provider: "flags/static", flag: `f${i}` })),
];
const RAW_BODIES = [
  "",
  "   ",
  "null",
  "[]",
  "42",
  '"a string"',
  "{",
  '{"kind":',
  "not json at all",
  "\ufeff{}",
  "[".repeat(5000) + "]".repeat(5000),
  JSON.stringify({ padding: "x".repeat(OVER_LIMIT) }),
  "y".repeat(OVER_LIMIT),
];
const ACTION_OF = { POST: "status", PUT: "start", PATCH: "extend", DELETE: "stop" } as const;
type Method = keyof typeof ACTION_OF;

function formFor(method: Method, who: TeamChallenge, rng: Rng): Record<string, unknown> {
  switch (ACTION_OF[method]) {
    case "status":
      return forms.status(who);
    case "start":
      return forms.start(who, {
        flags: rng.chance(0.5) ? [{ provider: "flags/dynamic", flag: `rctf{${who.teamId}}` }] : [],
        timeoutMilliseconds: rng.pick([0, 1, 600_000, 3_600_000]),
      });
    case "extend":
      return forms.extend(who, rng.pick([0, 600_000]));
    case "stop":
      return forms.stop(who);
  }
}

/** One request: mostly rCTF-shaped bodies with one thing broken, sometimes no body rCTF would ever send. */
function generate(rng: Rng): { method: string; body?: string | ReadableStream; contentType?: string; what: string } {
  const contentType = rng.pick(["application/json", "application/json", "text/plain", undefined]);
  const roll = rng.next();
  if (roll < 0.05) return { method: rng.pick(["GET", "OPTIONS"]), what: "method outside the protocol" };
  const method = rng.pick(Object.keys(ACTION_OF) as Method[]);
  if (roll < 0.2) {
    const raw = rng.pick(RAW_BODIES);
    return { method, body: raw, contentType, what: `raw body (${raw.length} bytes): ${raw.slice(0, 20)}` };
  }
  if (roll < 0.23) {
    // Over the limit without a Content-Length: found while the body is read.
    const chunk = new TextEncoder().encode("z".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    return { method, body, contentType, what: "chunked body over the limit" };
  }
  const who = { teamId: rng.pick(TEAMS), challengeIntegrationId: rng.pick(CHALLENGES) };
  const form = formFor(method, who, rng);
  const breaks = rng.pick(["none", "none", "field", "field", "drop", "kind", "token", "extra"] as const);
  const keys = Object.keys(form);
  if (breaks === "field") form[rng.pick(keys)] = rng.pick(HOSTILE);
  if (breaks === "drop") delete form[rng.pick(keys)];
  if (breaks === "kind") form.kind = rng.pick([...Object.values(forms).map((f) => f(who, 1 as never).kind), "x", 7]);
  if (breaks === "token") form.rctfAuthToken = rng.pick(["", RCTF_TOKEN.toUpperCase(), `${RCTF_TOKEN} `, null, 1]);
  if (breaks === "extra") Object.assign(form, JSON.parse('{"__proto__":{"polluted":1},"constructor":{"x":1}}'));
  return { method, body: JSON.stringify(form), contentType, what: `${ACTION_OF[method]} form, ${breaks}` };
}

describe("fuzz of rCTF's instancer protocol", () => {
  let stack: TestStack;
  beforeAll(async () => {
    // No worker: the fuzz exercises the protocol; instances it starts stay requested.
    stack = await TestStack.start({ worker: false, env: { RCTF_AUTH_TOKEN: RCTF_TOKEN } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`${REQUESTS} requests never get a reply outside rCTF's two shapes, nor a 5xx (seed ${SEED})`, async () => {
    const rng = prng(SEED);
    const url = `${stack.url}/rctf/v1/instances/`;
    // The four methods of the protocol are operations of the document: their replies must be declared there.
    const check = responseChecker((await stack.request("GET", "/openapi.json", { token: null })).body);
    const failures: string[] = [];
    const tally: Record<string, number> = {};
    const started = Date.now();
    let sent = 0;
    for (; sent < REQUESTS && Date.now() - started < TIME_BUDGET_MS; sent++) {
      const req = generate(rng);
      const res = await fetch(url, {
        method: req.method,
        headers: req.contentType ? { "content-type": req.contentType } : {},
        body: req.body,
        ...(req.body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
      const text = await res.text();
      const problem = shapeProblem(res.status, text) ?? (res.status >= 500 ? `HTTP ${res.status}: ${text}` : null);
      if (problem) failures.push(`#${sent} ${req.method} ${req.what}: ${problem}`);
      else if (req.method in ACTION_OF)
        for (const undeclared of check(req.method, url, {
          status: res.status,
          body: JSON.parse(text),
          headers: res.headers,
        }))
          failures.push(`#${sent} ${req.what}: ${undeclared}`);
      const kind = problem ? "bad" : (JSON.parse(text) as { kind: string }).kind;
      const key = `${res.status} ${kind}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    process.stdout.write(
      `rctf fuzz seed ${SEED}: ${sent} requests in ${Date.now() - started} ms; replies ${JSON.stringify(tally)}\n`,
    );
    expect(failures.slice(0, 20), `replay with FUZZ_SEED=${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(Math.min(REQUESTS, 200));
    // Not vacuous: both shapes came back, and the refusals covered bad input, token and method.
    expect(tally["200 instancerInstanceDetails"]).toBeGreaterThan(0);
    for (const status of [400, 401, 404, 405]) expect(tally[`${status} instancerError`]).toBeGreaterThan(0);
    // The polluting key never reached an object's prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
