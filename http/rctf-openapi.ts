// The family's operations in the OpenAPI document: one path, one operation per method, every answer in one of
// rCTF's two shapes (the 431 of Node's HTTP parser, before any route, excepted).
import type { ApiConfig } from "../infra/config.ts";
import { jsonSchema } from "./openapi.ts";
import { rctfPath } from "./rctf-family.ts";
import { instanceDetailsSchema, instancerErrorSchema, type RctfAction, type RefusalStatus } from "./rctf-protocol.ts";

const REFUSAL_DESCRIPTION: Record<RefusalStatus, string> = {
  400: "instancerError: a body over 64 KiB, not JSON, of another kind, or a field that fails validation",
  401: "instancerError: rctfAuthToken is not RCTF_AUTH_TOKEN",
  404: "instancerError: challengeIntegrationId is not a challenge of the catalogue",
  405: "instancerError: a method the protocol does not have",
  409: "instancerError: refused by the instance's state (quota, renewal not open yet, other flags, being stopped)",
  429: "instancerError: refused for now (cooldown, capacity)",
  500: "instancerError: an internal failure or a backing service away (no detail; the request id is in the message)",
};

/** The family's path item, or nothing when it is not mounted. */
export function rctfOpenApiPaths(config: ApiConfig, actions: readonly RctfAction[]): Record<string, object> {
  if (!config.RCTF_AUTH_TOKEN) return {};
  const operations: Record<string, object> = {};
  for (const action of actions) {
    const statuses = new Set<RefusalStatus>([400, 401, 500, ...action.refusals]);
    const responses: Record<string, object> = {
      200: {
        description: "instancerInstanceDetails",
        headers: { "X-Request-Id": { $ref: "#/components/headers/RequestId" } },
        content: { "application/json": { schema: jsonSchema(instanceDetailsSchema, "output") } },
      },
      431: {
        description: "Request headers over 16 KiB (Node's HTTP parser, before any route: the API's envelope)",
        content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
      },
    };
    for (const status of [...statuses].sort((a, b) => a - b))
      responses[String(status)] = {
        description: REFUSAL_DESCRIPTION[status],
        headers: { "X-Request-Id": { $ref: "#/components/headers/RequestId" } },
        content: { "application/json": { schema: jsonSchema(instancerErrorSchema, "output") } },
      };
    operations[action.method.toLowerCase()] = {
      operationId: action.operationId,
      summary: action.summary,
      description:
        "rCTF's instancer protocol (docs/rctf.md). The shared token is the body field `rctfAuthToken`; rCTF reads the body only, never the status.",
      security: [],
      parameters: [{ $ref: "#/components/parameters/RequestId" }],
      requestBody: {
        required: true,
        content: { "application/json": { schema: jsonSchema(action.form, "input") } },
      },
      responses,
    };
  }
  return { [rctfPath(config.RCTF_BASE_PATH)]: operations };
}
