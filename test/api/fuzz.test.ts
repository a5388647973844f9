import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TOKEN, TestStack } from "../support/stack.ts";
import { responseChecker } from "./openapi-check.ts";
import { gen, prng, type Mode, type Schema } from "./fuzz-values.ts";

// Bounded in count and time; the seed is printed so a failure can be replayed with FUZZ_SEED=<seed>.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 600);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const TIME_BUDGET_MS = 45_000;

type Param = { name: string; in: string; required?: boolean; schema: Schema; $ref?: string };
type Op = {
  operationId: string;
  security: unknown[];
  parameters: Param[];
  requestBody?: { content: { "application/json": { schema: Schema } } };
  responses: Record<string, { content?: Record<string, unknown> }>;
};
type Doc = { paths: Record<string, Record<string, Op>>; components: { parameters: Record<string, Param> } };

describe("fuzz from the OpenAPI document", () => {
  let stack: TestStack;
  let doc: Doc;
  beforeAll(async () => {
    // No worker: the fuzz exercises the API; instances it asks for stay requested.
    stack = await TestStack.start({
      worker: false,
      assignWaitSeconds: 0,
      env: { FLAG_SECRET: "flag-secret-0123456789abcdef0123456789", MAX_LIVE_INSTANCES: "100" },
    });
    await stack.request("PUT", "/challenges/flagged", { body: { image: "a", port: 80, flag_format: "CTF{{}}" } });
    doc = (await stack.request("GET", "/openapi.json", { token: null })).body as Doc;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`${REQUESTS} requests across every operation get no 5xx and only answers the document declares (seed ${SEED})`, async () => {
    const rng = prng(SEED);
    const check = responseChecker(doc as never);
    // An event stream never ends, so a request that reads the whole answer cannot be one of these.
    const ops = Object.entries(doc.paths)
      .flatMap(([path, byMethod]) =>
        Object.entries(byMethod).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
      )
      .filter(({ op }) => !op.responses["200"]?.content?.["text/event-stream"]);
    // Ids the API issued or knows, so generated requests reach past "not found" too.
    const known = new Set(["web100", "flagged", "team1"]);
    const failures: string[] = [];
    const tally: Record<string, number> = {};
    const started = Date.now();
    let sent = 0;

    for (; sent < REQUESTS && Date.now() - started < TIME_BUDGET_MS; sent++) {
      const { path, method, op } = ops[sent % ops.length]!; // every operation in turn
      const mode: Mode = rng.pick(["valid", "valid", "boundary", "invalid"] as const);
      const extra = [...known];
      const params = op.parameters.map((p) => (p.$ref ? doc.components.parameters[p.$ref.split("/").pop()!]! : p));
      // Invalid requests break one thing; the rest stays valid so the break is what gets answered.
      const broken =
        mode === "invalid" ? rng.pick([...params.map((p) => p.name), "body", "auth", "type", "repeat"]) : "";
      const at = (name: string): Mode => (name === broken ? "invalid" : mode === "boundary" ? "boundary" : "valid");

      let url = path;
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      for (const p of params) {
        if (!p.required && mode === "valid" && rng.chance(0.5) && p.name !== broken) continue;
        const value = String(gen(p.schema, at(p.name), rng, extra));
        // A URL carries UTF-8 only: an unpaired surrogate goes as U+FFFD, as URLSearchParams sends it.
        if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(value.toWellFormed()));
        else if (p.in === "query") query.append(p.name, value);
        else if (/^[\t\x20-\x7e]*$/.test(value)) headers[p.name] = value; // fetch refuses other header bytes
      }
      if (broken === "repeat") query.append(params.find((p) => p.in === "query")?.name ?? "x", "1");
      if (query.size) url += `?${query}`;

      let body: string | undefined;
      const schema = op.requestBody?.content["application/json"].schema;
      if (schema) {
        body = JSON.stringify(gen(schema, at("body"), rng, extra));
        if (broken === "body" && rng.chance(0.2)) body = body.slice(0, -1); // not JSON at all
        headers["content-type"] =
          broken === "type" ? rng.pick(["text/plain", "application/xml", ""]) : "application/json";
      }
      let token: string | null = TEST_TOKEN;
      if (broken === "auth") {
        token = null;
        headers.authorization = rng.pick([
          "",
          "Bearer",
          `Basic ${TEST_TOKEN}`,
          "Bearer wrong-token-0123456789",
          `Bearer  ${TEST_TOKEN} x`,
        ]);
      } else if (op.security.length && rng.chance(0.1)) {
        token = null;
        headers.authorization = `bearer ${TEST_TOKEN}`;
      }

      const res = await stack.request(method, url, { body, token, headers });
      tally[`${res.status}`] = (tally[`${res.status}`] ?? 0) + 1;
      const problems = check(method, url, res);
      if (res.status >= 500) problems.push(`${method} ${url} → ${res.status}: ${JSON.stringify(res.body)}`);
      if (problems.length)
        failures.push(`#${sent} (${mode}, broke ${broken || "nothing"}) body=${body ?? "-"}: ${problems.join("; ")}`);
      for (const key of ["instance_id", "id", "team_id", "challenge_id"]) {
        const v = (res.body as Record<string, unknown> | null)?.[key];
        if (typeof v === "string" && res.status < 300) known.add(v);
      }
    }

    process.stdout.write(
      `fuzz seed ${SEED}: ${sent} requests over ${ops.length} operations in ${Date.now() - started} ms; statuses ${JSON.stringify(tally)}\n`,
    );
    expect(failures.slice(0, 20), `replay with FUZZ_SEED=${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(Math.min(REQUESTS, 500));
  });
});
