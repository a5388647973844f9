import { z } from "zod";
import { getChallenge } from "../core/challenges.ts";
import { extendExpiry, findLive } from "../core/instances.ts";
import { scheduleExpiry } from "../core/queue.ts";
import { defineEndpoint } from "../runtime/endpoint.ts";
import { AppError } from "../runtime/errors.ts";
import { instanceView, instanceViewSchema, teamChallengeBody } from "./shared/instance-view.ts";

export default defineEndpoint({
  method: "POST",
  path: "/extend",
  operationId: "extendInstance",
  auth: "token",
  summary:
    "Renew a running instance by its challenge's TTL. Open only within RENEW_WINDOW_SECONDS before expiry, and never past MAX_LIFETIME_SECONDS from its start.",
  body: teamChallengeBody,
  responses: { 200: instanceViewSchema.extend({ message: z.string() }) },
  errors: [400, 401, 404, 409, 413, 415, 503],
  async handler({ deps, requestId, log }, { body }) {
    const { config } = deps;
    const row = await findLive(deps.db, body.team_id, body.challenge_id);
    if (!row) throw new AppError("not_found", `team '${body.team_id}' has no live instance of '${body.challenge_id}'`);
    if (row.state !== "running" || !row.expires_at || !row.started_at)
      throw new AppError("not_running", `the instance is ${row.state}; only a running instance can be renewed`, {
        headers: { "Retry-After": "2" },
      });
    const challenge = await getChallenge(deps.db, row.challenge_id);
    const ttlSeconds = challenge?.ttl_seconds ?? config.DEFAULT_TTL_SECONDS;
    // The cap first: waiting for the window would only lead to this same refusal.
    const cap = row.started_at.getTime() + config.MAX_LIFETIME_SECONDS * 1000;
    if (cap <= row.expires_at.getTime())
      throw new AppError(
        "max_lifetime_reached",
        "the instance has reached its maximum lifetime and cannot be renewed",
        {
          details: { expires_at: row.expires_at.toISOString() },
        },
      );
    const opensAt = row.expires_at.getTime() - config.RENEW_WINDOW_SECONDS * 1000;
    if (Date.now() < opensAt)
      throw new AppError("renewal_not_open", `renewal opens at ${new Date(opensAt).toISOString()}`, {
        headers: { "Retry-After": String(Math.ceil((opensAt - Date.now()) / 1000)) },
        details: { renewable_at: new Date(opensAt).toISOString(), expires_at: row.expires_at.toISOString() },
      });
    const extended = await extendExpiry(deps.db, row.id, row.renewals, ttlSeconds, config.MAX_LIFETIME_SECONDS);
    if (!extended?.expires_at) throw new AppError("conflict", "the instance changed meanwhile; try again");
    // The sweeper ends expired rows even if this timer is lost, so a Redis hiccup here is not an error.
    await scheduleExpiry(deps.queue, { instanceId: row.id, requestId }, extended.expires_at).catch((err: unknown) =>
      log.warn({ err }, "expiry timer not scheduled; the sweeper covers it"),
    );
    return {
      status: 200,
      body: { message: "Instance renewed.", ...instanceView(extended, config.RENEW_WINDOW_SECONDS) },
    };
  },
});
