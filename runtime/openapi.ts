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

const jsonSchema = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" });

/** The OpenAPI 3 description, generated from the same definitions that validate requests. */
export function buildOpenApi(endpoints: readonly Endpoint[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const ep of endpoints) {
    const path = ep.path.replace(/:(\w+)/g, "{$1}");
    const parameters = [
      ...objectFields(ep.params).map(([name, schema]) => ({ name, in: "path", required: true, schema })),
      ...objectFields(ep.query).map(([name, schema, required]) => ({ name, in: "query", required, schema })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(ep.responses))
      responses[status] = {
        description: `HTTP ${status}`,
        content: schema ? { "application/json": { schema: jsonSchema(schema, "output") } } : undefined,
      };
    if (Object.keys(responses).length === 0) responses["204"] = { description: "No content" };
    for (const status of ep.errors ?? [])
      responses[String(status)] = {
        description: "Error envelope",
        content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
      };
    (paths[path] ??= {})[ep.method.toLowerCase()] = {
      summary: ep.summary,
      security: ep.auth === "token" ? [{ bearer: [] }] : [],
      parameters,
      requestBody: ep.body
        ? { required: true, content: { "application/json": { schema: jsonSchema(ep.body, "input") } } }
        : undefined,
      responses,
    };
  }
  return {
    openapi: "3.0.3",
    info: { title: "ctf-instancer", version },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { ErrorEnvelope: jsonSchema(errorEnvelopeSchema, "output") },
    },
    paths,
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
