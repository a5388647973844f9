import { z } from "zod";
import type { Endpoint } from "./endpoint.ts";
import { ERROR_STATUS } from "./errors.ts";

const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]),
    message: z.string(),
    requestId: z.string(),
    details: z.unknown().optional(),
  }),
});

/** A zod schema as OpenAPI 3.0's JSON Schema, as a request (`input`) or an answer (`output`) sees it. */
export const jsonSchema = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" });

const ERROR_DESCRIPTION: Record<number, string> = {
  400: "Bad input: malformed JSON, a field or query parameter that fails validation, or a cursor not issued here",
  401: "Missing or invalid bearer token; for a team token also: expired, forged, malformed or not HS256",
  403: "A team token used for another team, or for an endpoint only an admin token may use",
  404: "Unknown challenge or instance",
  409: "Conflict with the instance's or challenge's current state",
  413: "Request body over 16 KiB",
  415: "Content-Type is not application/json",
  431: "Request headers over 16 KiB",
  429: "Refused for now (cooldown, capacity); retry after Retry-After seconds",
  500: "Internal error",
  502: "The instance failed to start for a reason of the challenge's (image missing, container exits, port never served)",
  503: "A backing service is unavailable, the server is draining, or the gateway's maintenance",
};

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Admin tokens everywhere a token is needed; team tokens (JWT) only where an endpoint accepts them. */
const SECURITY = { public: [], token: [{ bearer: [] }], team: [{ bearer: [] }, { teamToken: [] }] } as const;

/** Statuses whose answers may carry Retry-After. */
const RETRY_AFTER = new Set([202, 409, 429, 503]);

/**
 * The OpenAPI 3 description, generated from the same definitions that validate requests. `families` adds paths
 * of protocols spoken in their own shapes (http/rctf-openapi.ts).
 */
export function buildOpenApi(
  endpoints: readonly Endpoint[],
  version: string,
  families: Record<string, object> = {},
): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const ep of endpoints) {
    const path = ep.path.replace(/:(\w+)/g, "{$1}");
    const parameters = [
      ...objectFields(ep.params).map(([name, schema]) => ({ name, in: "path", required: true, schema })),
      ...objectFields(ep.query).map(([name, schema, required]) => ({ name, in: "query", required, schema })),
      ...(ep.headers ?? []).map((h) => ({ ...h, in: "header", required: false })),
      ref("parameters", "RequestId"),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(ep.responses))
      responses[status] = {
        description: `HTTP ${status}`,
        headers: responseHeaders(Number(status)),
        content: schema
          ? Object.fromEntries(
              [ep.mediaType ?? "application/json"]
                .flat()
                .map((type) => [type, { schema: jsonSchema(schema, "output") }]),
            )
          : undefined,
      };
    if (Object.keys(responses).length === 0)
      responses["204"] = { description: "No content", headers: responseHeaders(204) };
    for (const status of errorStatuses(ep))
      responses[String(status)] = {
        description: ERROR_DESCRIPTION[status] ?? "Error envelope",
        headers: responseHeaders(status),
        content: {
          "application/json": { schema: ref("schemas", "ErrorEnvelope") },
          // The gateway's maintenance page, for clients that ask for HTML (browsers).
          ...(status === 503 ? { "text/html": { schema: { type: "string" } } } : {}),
        },
      };
    (paths[path] ??= {})[ep.method.toLowerCase()] = {
      operationId: ep.operationId,
      summary: ep.summary,
      description: ep.query ? "Unknown and repeated query parameters are refused with 400." : undefined,
      security: SECURITY[ep.auth],
      parameters,
      requestBody: ep.body
        ? { required: true, content: { "application/json": { schema: jsonSchema(ep.body, "input") } } }
        : undefined,
      responses,
    };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "ctf-instancer",
      version,
      // The project publishes no licence: no rights are granted beyond what its owner agrees to.
      license: { name: "UNLICENSED" },
    },
    // Relative: the API answers on whatever origin served this document (directly or through the gateway).
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An admin token (API_TOKENS)" },
        teamToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A team token: an HS256 JWT signed with TEAM_TOKEN_SECRET carrying `team_id` and `exp`; acts for that team only (docs/dashboard.md)",
        },
      },
      schemas: { ErrorEnvelope: jsonSchema(errorEnvelopeSchema, "output") },
      parameters: {
        RequestId: {
          name: "X-Request-Id",
          in: "header",
          required: false,
          description:
            "Request id to use (echoed, logged, put on the container's labels); another one is made if absent or invalid",
          schema: { type: "string", pattern: "^[A-Za-z0-9._-]{1,128}$" },
        },
      },
      headers: {
        RequestId: { description: "The request's id", schema: { type: "string" } },
        RetryAfter: { description: "Seconds to wait before trying again", schema: { type: "integer", minimum: 0 } },
        Location: { description: "Where to follow the instance: GET /instances/{id}", schema: { type: "string" } },
      },
    },
    paths: { ...paths, ...families },
  };
}

/**
 * What any endpoint may answer besides its own errors: every route can fail with 500 or be unavailable, and any
 * request can carry headers over the server's limit.
 */
function errorStatuses(ep: Endpoint): number[] {
  const statuses = new Set([...(ep.errors ?? []), 431, 500, 503]);
  // A team token is refused with 403 by admin-only endpoints, and by team endpoints for another team.
  if (ep.auth !== "public") for (const s of [401, 403]) statuses.add(s);
  if (ep.body) for (const s of [400, 413, 415]) statuses.add(s);
  if (ep.query || ep.params) statuses.add(400);
  return [...statuses].sort((a, b) => a - b);
}

function responseHeaders(status: number): Record<string, unknown> {
  return {
    "X-Request-Id": ref("headers", "RequestId"),
    ...(RETRY_AFTER.has(status) ? { "Retry-After": ref("headers", "RetryAfter") } : {}),
    ...(status === 202 ? { Location: ref("headers", "Location") } : {}),
  };
}

function objectFields(schema: z.ZodType | undefined): [string, unknown, boolean][] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => [
    name,
    jsonSchema(field, "input"),
    !field.safeParse(undefined).success,
  ]);
}
