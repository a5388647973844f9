import { z } from "zod";
import { getChallenge } from "../domain/challenges.ts";
import { ttlSeconds } from "../domain/lifecycle/expiry.ts";
import { decideRenewal, type Renewal } from "../domain/lifecycle/renewal.ts";
import { extendExpiry, findLive } from "../domain/instances.ts";
import { scheduleExpiry } from "../infra/queue.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";
import { teamChallengeBody } from "./shared/team-challenge-body.ts";

export default defineEndpoint({
  method: "POST",
  path: "/extend",
  operationId: "extendInstance",
  auth: "team",
  teamOf: ({ body }) => body.team_id,
  summary:
    "Renew a running instance by its challenge's TTL. Open only within RENEW_WINDOW_SECONDS before expiry, and never past MAX_LIFETIME_SECONDS from its start.",
  body: teamChallengeBody,
  responses: { 200: instanceViewSchema.extend({ message: z.string() }) },
  errors: [400, 401, 403, 404, 409, 413, 415, 503],
  async handler({ deps, requestId, log }, { body }) {
    const { config } = deps;
    const row = await findLive(deps.db, body.team_id, body.challenge_id);
    if (!row) throw new AppError("not_found", `team '${body.team_id}' has no live instance of '${body.challenge_id}'`);
    const challenge = await getChallenge(deps.db, row.challenge_id);
    const renewal = decideRenewal(row, ttlSeconds(challenge, config.DEFAULT_TTL_SECONDS), {
      renewWindowSeconds: config.RENEW_WINDOW_SECONDS,
      maxLifetimeSeconds: config.MAX_LIFETIME_SECONDS,
    });
    if (!renewal.ok) throw refusal(renewal);
    const extended = await extendExpiry(deps.db, row.id, row.renewals, renewal.expiresAt);
    if (!extended?.expires_at) throw new AppError("conflict", "the instance changed meanwhile; try again");
    // The sweeper ends expired rows even if this timer is lost, so a Redis hiccup here is not an error.
    await scheduleExpiry(deps.queue, { instanceId: row.id, requestId }, extended.expires_at).catch((err: unknown) =>
      log.warn({ err }, "expiry timer not scheduled; the sweeper covers it"),
    );
    return {
      status: 200,
      body: { message: "Instance renewed.", ...instanceView(extended, config) },
    };
  },
});

function refusal(renewal: Exclude<Renewal, { ok: true }>): AppError {
  switch (renewal.code) {
    case "not_running":
      return new AppError("not_running", `the instance is ${renewal.state}; only a running instance can be renewed`, {
        headers: { "Retry-After": "2" },
      });
    case "max_lifetime_reached":
      return new AppError(
        "max_lifetime_reached",
        "the instance has reached its maximum lifetime and cannot be renewed",
        {
          details: { expires_at: renewal.expiresAt.toISOString() },
        },
      );
    case "renewal_not_open":
      return new AppError("renewal_not_open", `renewal opens at ${renewal.opensAt.toISOString()}`, {
        headers: { "Retry-After": String(Math.ceil((renewal.opensAt.getTime() - Date.now()) / 1000)) },
        details: { renewable_at: renewal.opensAt.toISOString(), expires_at: renewal.expiresAt.toISOString() },
      });
  }
}
