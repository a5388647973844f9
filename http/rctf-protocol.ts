// rCTF's instancer protocol (docs/rctf.md): the only two reply shapes rCTF reads, and what one action of the
// family is. rCTF ignores the HTTP status and reads the body alone, so every reply of the family, refusals and
// failures included, is one of these two shapes.
import { z } from "zod";
import type { AppDeps } from "./deps.ts";

export const EXPOSE_KINDS = ["http", "https", "tcp", "tcp-ssl", "raw"] as const;
export const INSTANCE_STATUSES = ["stopped", "starting", "running", "stopping", "errored"] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const rctfEndpointSchema = z.object({
  kind: z.enum(EXPOSE_KINDS),
  host: z.string(),
  port: z.int().min(0).max(65535),
  title: z.string().optional(),
  text: z.string().optional(),
  bypassExpose: z.boolean().optional(),
});
export type RctfEndpoint = z.infer<typeof rctfEndpointSchema>;

export const instanceDetailsSchema = z.object({
  kind: z.literal("instancerInstanceDetails"),
  status: z.enum(INSTANCE_STATUSES),
  timeLeftMilliseconds: z.int().nullable(),
  endpoints: z.array(rctfEndpointSchema).nullable(),
});
export type InstanceDetails = z.infer<typeof instanceDetailsSchema>;

export const instancerErrorSchema = z.object({ kind: z.literal("instancerError"), message: z.string() });
export type InstancerError = z.infer<typeof instancerErrorSchema>;

/**
 * Statuses of refusals. rCTF ignores them; they are chosen for everything else on the way: a 4xx for bad input,
 * and never 413, 502, 503 or 504, which the gateway replaces with its own pages (not one of the two shapes).
 */
export const REFUSAL_STATUSES = [400, 401, 404, 405, 409, 429, 500] as const;
export type RefusalStatus = (typeof REFUSAL_STATUSES)[number];

/** A refusal the player reads: the message says what happened and what to do, never internal detail. */
export class RctfRefusal extends Error {
  override name = "RctfRefusal";
  readonly status: RefusalStatus;
  constructor(status: RefusalStatus, message: string) {
    super(message);
    this.status = status;
  }
}

export const instancerError = (message: string): InstancerError => ({ kind: "instancerError", message });

/** The fields every form of the protocol carries; extra fields (rCTF's `config`, `expose`, …) are dropped. */
export const formBase = z.object({
  rctfAuthToken: z.string(),
  teamId: z.string({ error: "must be a string" }).min(1, "must not be empty").max(128, "is too long"),
  challengeIntegrationId: z.string({ error: "must be a string" }).max(128, "is too long"),
  config: z.unknown().optional().describe("rCTF's own container description; ignored here (the catalogue decides)"),
});

export type RctfMethod = "POST" | "PUT" | "PATCH" | "DELETE";

export interface RctfContext {
  deps: AppDeps;
  requestId: string;
  log: AppDeps["logger"];
}

/** One action of the family: the method and form `kind` that select it, its form, and its handler. */
export interface RctfAction<F extends z.ZodType = z.ZodType> {
  method: RctfMethod;
  kind: string;
  operationId: string;
  summary: string;
  form: F;
  /** Refusals this action may answer with (besides 400, 401, 405 and 500, which any may), for the description. */
  refusals: RefusalStatus[];
  /** Answers the instance's details, or throws an RctfRefusal. */
  handler: (ctx: RctfContext, form: z.infer<F>) => Promise<InstanceDetails>;
}

export function defineRctfAction<F extends z.ZodType>(action: RctfAction<F>): RctfAction<F> {
  return action;
}
