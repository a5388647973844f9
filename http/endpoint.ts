import type { Context } from "hono";
import type { z } from "zod";
import type { Principal } from "./auth.ts";
import type { AppDeps } from "./deps.ts";

/**
 * Who may call an endpoint: anyone (`public`), an admin token only (`token`), or an admin token or a team token
 * (`team`); a team token then acts only for the team `teamOf` names (http/auth.ts).
 */
export type AuthLevel = "public" | "token" | "team";
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
  /** A response the handler built itself (a server-sent event stream); status, body and headers are then unused. */
  response?: Response;
}

export interface HandlerContext {
  deps: AppDeps;
  requestId: string;
  log: AppDeps["logger"];
  /** The caller; `public` endpoints see an admin principal only when they are given one, so they never rely on it. */
  principal: Principal | null;
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
  /**
   * For `team` endpoints: the team the request acts for, read from the validated input. A team token naming
   * another team gets 403 before the handler runs; `undefined` leaves the check to the handler (e.g. a row's team).
   */
  teamOf?: (input: EndpointInput<z.infer<B>, z.infer<Q>, z.infer<P>>) => string | undefined;
  /** Unique name of the operation in the OpenAPI description (what generated clients call it). */
  operationId: string;
  summary: string;
  /** Request headers the endpoint reads, for the OpenAPI description. */
  headers?: HeaderParam[];
  /** Media type(s) of the success answers when they are not JSON (sent as `text`). */
  mediaType?: string | string[];
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
