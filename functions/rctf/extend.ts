import { z } from "zod";
import { getChallenge } from "../../domain/challenges.ts";
import { extendExpiry, findLive } from "../../domain/instances.ts";
import { ttlSeconds } from "../../domain/lifecycle/expiry.ts";
import { decideRenewal } from "../../domain/lifecycle/renewal.ts";
import { scheduleExpiry } from "../../infra/queue.ts";
import { defineRctfAction, formBase, RctfRefusal } from "../../http/rctf-protocol.ts";
import { challengeOf, detailsOf, lifetimeSeconds, renewalRefusal, teamIdOf } from "./shared.ts";

export default defineRctfAction({
  method: "PATCH",
  kind: "instancerRenewInstanceForm",
  operationId: "rctfExtendInstance",
  summary:
    "rCTF: extend the team's running instance to now + timeoutMilliseconds (0: the challenge's TTL), never past MAX_LIFETIME_SECONDS from its start; open only within RENEW_WINDOW_SECONDS of expiry, and the refusal says when it opens.",
  form: formBase.extend({
    kind: z.literal("instancerRenewInstanceForm"),
    timeoutMilliseconds: z.int({ error: "must be a whole number of milliseconds" }).min(0).max(Number.MAX_SAFE_INTEGER),
  }),
  refusals: [404, 409],
  async handler({ deps, requestId, log }, form) {
    const { config } = deps;
    const teamId = teamIdOf(form.teamId);
    const challenge = await challengeOf(deps.db, form.challengeIntegrationId);
    const row = await findLive(deps.db, teamId, challenge.id);
    if (!row) throw new RctfRefusal(409, "There is no running instance to extend. Start one first.");
    const current = await getChallenge(deps.db, row.challenge_id);
    const ttl = lifetimeSeconds(form.timeoutMilliseconds, config) ?? ttlSeconds(current, config.DEFAULT_TTL_SECONDS);
    const renewal = decideRenewal(
      row,
      ttl,
      { renewWindowSeconds: config.RENEW_WINDOW_SECONDS, maxLifetimeSeconds: config.MAX_LIFETIME_SECONDS },
      new Date(),
      "now",
    );
    if (!renewal.ok) throw renewalRefusal(renewal, config);
    const extended = await extendExpiry(deps.db, row.id, row.renewals, renewal.expiresAt);
    if (!extended?.expires_at) throw new RctfRefusal(409, "The instance changed meanwhile. Try again.");
    // The sweeper ends expired rows even if this timer is lost, so a Redis hiccup here is not an error.
    await scheduleExpiry(deps.queue, { instanceId: row.id, requestId }, extended.expires_at).catch((err: unknown) =>
      log.warn({ err }, "expiry timer not scheduled; the sweeper covers it"),
    );
    return detailsOf(extended);
  },
});
