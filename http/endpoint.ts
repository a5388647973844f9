import type { Context } from "hono";
import type { z } from "zod";
import type { AppDeps } from "./deps.ts";

export type AuthLevel = "public" | "token";
export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface HeaderParam {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

export interface EndpointInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
}

export interface EndpointResult {
  status: 200 | 201 | 202 | 204;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with the Content-Type from `headers` (for non-JSON answers such as /metrics). */
  text?: string;
  headers?: Record<string, string>;
}

export interface HandlerContext {
  deps: AppDeps;
  requestId: string;
  log: AppDeps["logger"];
  /** The raw Hono context, for the rare handler that needs headers. */
  hono: Context;
  /** Every mounted endpoint, for self-description. */
  endpoints: readonly Endpoint[];
}

/** One API endpoint: everything the host needs to mount, authenticate, validate and describe it. */
export interface Endpoint<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Hono path syntax, e.g. `/instances/:id`. */
  path: string;
  auth: AuthLevel;
  /** Unique name of the operation in the OpenAPI description (what generated clients call it). */
  operationId: string;
  summary: string;
  /** Request headers the endpoint reads, for the OpenAPI description. */
  headers?: HeaderParam[];
  /** Media type of the success answers when they are not JSON (sent as `text`). */
  mediaType?: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Response schemas by status, for the OpenAPI description. */
  responses: Partial<Record<number, z.ZodType>>;
  /** Errors this endpoint may answer with, for the OpenAPI description. */
  errors?: number[];
  handler: (ctx: HandlerContext, input: EndpointInput<z.infer<B>, z.infer<Q>, z.infer<P>>) => Promise<EndpointResult>;
}

/** Identity function that gives an endpoint literal full type inference. */
export function defineEndpoint<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(
  endpoint: Endpoint<B, Q, P>,
): Endpoint<B, Q, P> {
  return endpoint;
}
