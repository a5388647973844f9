import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { findRoute, ROUTE_PATTERN } from "../domain/routes.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";

export const GATEWAY_TOKEN_HEADER = "X-Gateway-Token";
export const ROUTE_UPSTREAM_HEADER = "X-Route-Upstream";

/**
 * How long the gateway may keep this answer: until the end of the current second (nginx's cache counts whole
 * seconds; `@<epoch second>` is the only bound it offers below one second), and not at all in a second's first
 * 200 ms. So no answer is kept more than 800 ms: a new route, or a removed one, is seen by the gateway well within
 * 1 s, while most requests skip the API.
 */
const KEEP_AT_MOST_MS = 800;
const untilThisSecondEnds = (): Record<string, string> => {
  const now = Date.now();
  return { "X-Accel-Expires": now % 1000 >= 1000 - KEEP_AT_MOST_MS ? `@${Math.floor(now / 1000)}` : "0" };
};

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Fixed-length digests compared in constant time: the answer time says nothing about how much matched. */
function checkGatewayToken(configured: string | undefined, presented: string | undefined): void {
  if (!configured) throw new AppError("unauthorized", "route lookups are off: GATEWAY_ROUTE_TOKEN is not set");
  if (!presented) throw new AppError("unauthorized", `missing ${GATEWAY_TOKEN_HEADER} header`);
  if (!timingSafeEqual(digest(configured), digest(presented)))
    throw new AppError("unauthorized", `invalid ${GATEWAY_TOKEN_HEADER}`);
}

export default defineEndpoint({
  method: "GET",
  path: "/routes/:route",
  operationId: "lookupRoute",
  // Not the API tokens: only the gateway holds GATEWAY_ROUTE_TOKEN, checked below.
  auth: "public",
  summary:
    "For the gateway: where the web name <route>.<CHALLENGE_DOMAIN> is served (a running instance's http " +
    "endpoint), also in the X-Route-Upstream header; 404 when no running instance has it. Needs X-Gateway-Token.",
  headers: [
    {
      name: GATEWAY_TOKEN_HEADER,
      description: "The gateway's shared secret, GATEWAY_ROUTE_TOKEN",
      schema: { type: "string" },
    },
  ],
  params: z.object({
    route: z.string().regex(ROUTE_PATTERN, "must be a DNS label: a-z, 0-9 and -, at most 63 characters"),
  }),
  responses: {
    200: z.object({ route: z.string(), instance_id: z.uuid(), upstream: z.string() }),
  },
  errors: [400, 401, 404],
  async handler({ deps, hono }, { params }) {
    checkGatewayToken(deps.config.GATEWAY_ROUTE_TOKEN, hono.req.header(GATEWAY_TOKEN_HEADER));
    const target = await findRoute(deps.db, params.route);
    if (!target)
      throw new AppError("not_found", `no running instance is served at ${params.route}`, {
        headers: untilThisSecondEnds(),
      });
    return {
      status: 200,
      headers: { [ROUTE_UPSTREAM_HEADER]: target.upstream, "Cache-Control": "no-store", ...untilThisSecondEnds() },
      body: { route: params.route, instance_id: target.instanceId, upstream: target.upstream },
    };
  },
});
