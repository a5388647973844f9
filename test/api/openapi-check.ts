import { Validator } from "@seriousme/openapi-schema-validator";
import responseValidatorModule from "openapi-response-validator";
import { afterAll, beforeAll, expect } from "vitest";
import { endpoints } from "../../functions/index.ts";
import { buildOpenApi } from "../../http/openapi.ts";
import type { TestStack } from "../support/stack.ts";

// A CommonJS module whose class is its `default` export: Node's ESM import gives the whole exports object, the
// test runner's interop the class itself.
const ResponseValidator = (
  typeof responseValidatorModule === "function" ? responseValidatorModule : responseValidatorModule.default
) as typeof responseValidatorModule.default;
type ResponseValidator = InstanceType<typeof ResponseValidator>;

type Operation = {
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: object };

/** The document, checked against the OpenAPI 3.0 JSON schema by an independent validator. */
export async function validateDocument(doc: Record<string, unknown>): Promise<{ valid: boolean; errors?: unknown }> {
  return new Validator().validate(doc);
}

/**
 * Holds answers against the document: the operation is declared, the status is declared for it, the
 * Content-Type is one it declares, headers it promises are there, and the body matches the schema
 * (openapi-response-validator, an independent implementation). Returns the problems found, empty when none.
 */
export function responseChecker(doc: Doc) {
  const routes = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`),
  }));
  const validators = new Map<Operation, ResponseValidator>();
  return (method: string, url: string, res: { status: number; body: unknown; headers: Headers }): string[] => {
    const path = new URL(url, "http://x").pathname;
    const what = `${method} ${path} → ${res.status}`;
    const route = routes.find((r) => r.pattern.test(path));
    const op = route && doc.paths[route.template]![method.toLowerCase()];
    // Paths and methods the document does not have answer 404 with the envelope.
    if (!op) return res.status === 404 && isEnvelope(res.body) ? [] : [`${what}: undeclared operation`];
    const declared = op.responses[String(res.status)];
    if (!declared) return [`${what}: status not declared`];
    const problems: string[] = [];
    const type = res.headers.get("content-type")?.split(";")[0]?.trim() ?? null;
    const types = Object.keys(declared.content ?? {});
    if (types.length ? !types.includes(type ?? "") : res.body !== null)
      problems.push(`${what}: Content-Type ${type} not among ${types.join(", ") || "(no body)"}`);
    for (const name of ["X-Request-Id", "Location"])
      if (declared.headers?.[name] && !res.headers.get(name)) problems.push(`${what}: header ${name} missing`);
    for (const name of res.headers.keys())
      if (
        ["retry-after", "location"].includes(name) &&
        !Object.keys(declared.headers ?? {}).some((h) => h.toLowerCase() === name)
      )
        problems.push(`${what}: header ${name} not declared`);
    if (type === "application/json") {
      let validator = validators.get(op);
      if (!validator) {
        validator = new ResponseValidator({
          responses: op.responses as never,
          components: doc.components as never,
        });
        validators.set(op, validator);
      }
      const error = validator.validateResponse(String(res.status), res.body);
      if (error) problems.push(`${what}: ${JSON.stringify(error.errors ?? error.message)}`);
    }
    return problems;
  };
}

const isEnvelope = (body: unknown) =>
  typeof body === "object" && body !== null && typeof (body as { error?: { code?: unknown } }).error?.code === "string";

/**
 * Holds every answer a test file's stack gives to the document: call it in a describe after the hooks that start
 * and stop the stack. Each `stack.request` is checked, and the file fails with every problem found.
 */
export function holdAnswersToDocument(getStack: () => TestStack): void {
  const problems: string[] = [];
  beforeAll(() => {
    const stack = getStack();
    const check = responseChecker(JSON.parse(JSON.stringify(buildOpenApi(endpoints, "test"))) as Doc);
    const request = stack.request.bind(stack);
    stack.request = async (...args: Parameters<TestStack["request"]>) => {
      const res = await request(...args);
      problems.push(...check(args[0], args[1], res));
      return res;
    };
  });
  // After hooks run in reverse order: this one runs before the stack is stopped.
  afterAll(() => {
    expect(problems, "answers the OpenAPI document does not declare").toEqual([]);
  });
}
