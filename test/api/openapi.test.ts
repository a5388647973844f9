import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack, WEB100 } from "../support/stack.ts";
import { responseChecker, validateDocument } from "./openapi-check.ts";

type Op = {
  operationId: string;
  description?: string;
  parameters: { name?: string; in?: string; $ref?: string }[];
  requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }> } }> };
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
};
type Doc = {
  info: { license?: { name: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Op>>;
  components: { schemas: { ErrorEnvelope: { properties: { error: { properties: { code: { enum: string[] } } } } } } };
};

describe("the OpenAPI document", () => {
  let stack: TestStack;
  let doc: Doc;
  const ops = () => Object.values(doc.paths).flatMap((byMethod) => Object.values(byMethod));
  beforeAll(async () => {
    stack = await TestStack.start({
      env: { FLAG_SECRET: "flag-secret-0123456789abcdef0123456789", COOLDOWN_SECONDS: "60" },
    });
    doc = (await stack.request("GET", "/openapi.json", { token: null })).body as Doc;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("is valid OpenAPI 3.0 to an independent validator", async () => {
    expect(await validateDocument(doc as unknown as Record<string, unknown>)).toEqual({ valid: true });
  });

  it("declares media types, every error code, headers and errors as the API answers them", () => {
    const metrics = doc.paths["/metrics"]!.get!.responses["200"]!;
    expect(Object.keys(metrics.content!)).toEqual(["text/plain"]);
    const codes = doc.components.schemas.ErrorEnvelope.properties.error.properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining(["maintenance", "instance_failed", "invalid_cursor"]));
    expect(Object.keys(doc.paths["/assign"]!.post!.responses["503"]!.content!)).toEqual([
      "application/json",
      "text/html",
    ]);
    for (const path of ["/assign", "/remove"]) {
      const op = doc.paths[path]!.post!;
      expect(op.parameters.map((p) => p.name)).toContain("Prefer");
      expect(Object.keys(op.responses["202"]!.headers!)).toEqual(expect.arrayContaining(["Location", "Retry-After"]));
      expect(Object.keys(op.responses["429"]!.headers!)).toContain("Retry-After");
    }
    expect(doc.paths["/assign"]!.post!.responses["502"]).toBeDefined();
    for (const op of ops()) {
      expect(op.responses["500"], op.operationId).toBeDefined();
      expect(Object.keys(op.responses["503"]!.headers!), op.operationId).toContain("Retry-After");
    }
  });

  it("states the rules the API enforces, names every operation, and has a licence and servers", () => {
    const props = doc.paths["/challenges/{id}"]!.put!.requestBody!.content["application/json"]!.schema.properties;
    expect(props.env!.description).toMatch(/shell identifiers/);
    expect(props.flag_format!.description).toMatch(/must contain \{\}/);
    expect(props.cap_add!.description).toMatch(/ALLOWED_CAPABILITIES/);
    expect(props.cpus!.description).toMatch(/0\.01–64/);
    expect(doc.paths["/instances"]!.get!.description).toMatch(/Unknown and repeated query parameters are refused/);
    const ids = ops().map((op) => op.operationId);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.info.license?.name).toBeTruthy();
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it("the checker itself refuses what the document does not declare", () => {
    const check = responseChecker(doc as never);
    const json = new Headers({ "content-type": "application/json", "x-request-id": "r" });
    expect(check("GET", "/healthz", { status: 200, body: { status: "ok" }, headers: json })).toEqual([]);
    expect(check("GET", "/healthz", { status: 200, body: { status: "fine" }, headers: json })).toHaveLength(1);
    expect(check("GET", "/healthz", { status: 418, body: { status: "ok" }, headers: json })).toHaveLength(1);
    const text = new Headers({ "content-type": "text/plain", "x-request-id": "r" });
    expect(check("GET", "/healthz", { status: 200, body: "ok", headers: text })).toHaveLength(1);
    const retry = new Headers({ "content-type": "application/json", "x-request-id": "r", "retry-after": "1" });
    expect(check("GET", "/challenges", { status: 200, body: { challenges: [] }, headers: retry })).toHaveLength(1);
  });

  it("every answer of a tour through every operation is one the document declares", async () => {
    const check = responseChecker(doc as never);
    const problems: string[] = [];
    const statuses = new Set<string>();
    const call = async (method: string, path: string, opts: Parameters<TestStack["request"]>[2] = {}) => {
      const res = await stack.request(method, path, opts);
      problems.push(...check(method, path, res));
      statuses.add(`${method} ${path.split("?")[0]!.replace(/[0-9a-f-]{36}/, "{id}")} ${res.status}`);
      return res;
    };
    const team = (team_id: string, challenge_id = "web100") => ({ body: { team_id, challenge_id } });

    await call("GET", "/healthz", { token: null });
    await call("GET", "/readyz", { token: null });
    await call("GET", "/openapi.json", { token: null });
    await call("GET", "/metrics");
    await call("GET", "/metrics", { token: null });
    await call("GET", "/nowhere");

    const spec = { image: WEB100.image, port: 80, flag_format: "CTF{{}}" };
    await call("PUT", "/challenges/tour", { body: spec });
    await call("PUT", "/challenges/tour", { body: { ...spec, env: { A: "1" } } });
    await call("PUT", "/challenges/tour", { body: { ...spec, port: 0 } });
    await call("PUT", "/challenges/tour", { body: "x", headers: { "content-type": "text/plain" } });
    await call("PUT", "/challenges/tour", { body: { ...spec, pad: "x".repeat(17_000) } });
    await call("PUT", "/challenges/ghost", { body: { image: "ctf-instancer/not-there:1", port: 80 } });
    await call("GET", "/challenges");
    await call("GET", "/challenges/tour");
    await call("GET", "/challenges/absent");

    const assigned = await call("POST", "/assign", team("tour1", "tour"));
    await call("POST", "/assign", team("tour1", "tour"));
    await call("POST", "/assign", { ...team("tour2"), headers: { prefer: "respond-async" } });
    await call("POST", "/assign", team("tour3", "absent"));
    await call("POST", "/assign", { body: "{" });
    await call("POST", "/assign", team("tour4", "ghost"));
    await call("DELETE", "/challenges/tour");
    await call("DELETE", "/challenges/absent");

    await call("GET", "/instances?limit=2");
    await call("GET", "/instances?cursor=garbage");
    await call("GET", `/instances/${assigned.body.instance_id}`);
    await call("GET", "/instances/5b0f1b9e-0d7a-4c2e-9a59-1f1f2b6f3c11");
    await call("GET", "/instances/nope");

    await call("POST", "/extend", team("tour1", "tour"));
    await call("POST", "/extend", team("nobody", "tour"));
    await call("POST", "/flags/verify", { body: { team_id: "tour1", challenge_id: "tour", flag: "CTF{x}" } });
    await call("POST", "/flags/verify", { body: { team_id: "tour1", challenge_id: "web100", flag: "CTF{x}" } });

    await call("POST", "/remove", team("tour1", "tour"));
    await stack.api.deps.db.query(
      "UPDATE instances SET created_at = now() - interval '1 minute' WHERE team_id = 'tour1'",
    );
    await call("POST", "/remove", team("tour1", "tour"));
    await call("POST", "/remove", team("tour1", "tour"));
    await call("DELETE", "/challenges/tour");

    expect(problems).toEqual([]);
    // The tour reached what it set out to: each kind of answer at least once.
    for (const s of [
      "POST /assign 200",
      "POST /assign 202",
      "POST /assign 502",
      "POST /remove 429",
      "GET /metrics 200",
    ])
      expect(statuses).toContain(s);
    for (const s of ["PUT /challenges/tour 413", "PUT /challenges/tour 415", "DELETE /challenges/tour 409"])
      expect(statuses).toContain(s);
    expect(statuses).toContain("DELETE /challenges/tour 204");
  });
});
