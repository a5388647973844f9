// Assign and remove answer at once when asked (Prefer: respond-async), or when the work outlives their wait: 202
// with where to follow the instance.
import type { InstanceRow } from "../../domain/instances.ts";
import type { HeaderParam } from "../../http/endpoint.ts";
import { instanceView, type ViewSettings } from "./instance-view.ts";

export const instanceLocation = (id: string) => `/instances/${id}`;

/** 202 for work still under way: where to follow it, and the instance as it is now. */
export function accepted(row: InstanceRow, message: string, settings: ViewSettings) {
  return {
    status: 202 as const,
    headers: { Location: instanceLocation(row.id), "Retry-After": "2" },
    body: { message, status_url: instanceLocation(row.id), ...instanceView(row, settings) },
  };
}

/** Declared on assign and remove, for the OpenAPI description. */
export const preferHeader: HeaderParam = {
  name: "Prefer",
  description: "`respond-async` (RFC 7240): answer 202 with a Location at once instead of waiting for the result",
  schema: { type: "string", example: "respond-async" },
};

/** How long assign and remove wait for the outcome: not at all with `Prefer: respond-async`. */
export const waitBudgetMs = (prefer: string | undefined, assignWaitSeconds: number) =>
  prefersAsync(prefer) ? 0 : assignWaitSeconds * 1000;

/** `Prefer: respond-async` (RFC 7240) asks for 202 at once instead of waiting. */
const prefersAsync = (header: string | undefined) => /(^|[,;\s])respond-async([,;\s]|$)/i.test(header ?? "");
