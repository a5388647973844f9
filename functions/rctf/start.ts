import { z } from "zod";
import { deriveFlag, issueFlag } from "../../domain/flags.ts";
import { admissionLimits, admit } from "../../domain/lifecycle/admission.ts";
import { containersOf } from "../../domain/challenge-shape.ts";
import {
  platformFlagSchema,
  platformStartOf,
  recordPlatformStart,
  recordPlatformTeamFlag,
  sameFlags,
} from "../../domain/platform-flags.ts";
import { withTransaction } from "../../infra/db.ts";
import { JOB } from "../../infra/queue.ts";
import { defineRctfAction, formBase, RctfRefusal } from "../../http/rctf-protocol.ts";
import { assertQueueReachable, enqueueOrUnavailable } from "../shared/enqueue.ts";
import { admissionRefusal, challengeOf, detailsOf, lifetimeSeconds, teamIdOf } from "./shared.ts";

const TAKEN_FLAG = "This challenge's per-team flag for your team is already another team's. Tell the organisers.";

export default defineRctfAction({
  method: "PUT",
  kind: "instancerCreateInstanceForm",
  operationId: "rctfStartInstance",
  summary:
    "rCTF: start the team's instance of the challenge, carrying the platform's flags (FLAG, FLAGS). Answers at once (`starting`); idempotent while the instance is live, refused when it lives with other flags.",
  form: formBase.extend({
    kind: z.literal("instancerCreateInstanceForm"),
    flags: z.array(platformFlagSchema).max(32).default([]),
    timeoutMilliseconds: z
      .int({ error: "must be a whole number of milliseconds" })
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .describe("The instance's lifetime; 0 keeps the challenge's TTL; at most MAX_LIFETIME_SECONDS"),
    expose: z.unknown().optional().describe("ignored: the endpoint is described by the instancer (bypassExpose)"),
    instancer: z.unknown().optional().describe("ignored: rCTF's own key"),
    extendable: z.unknown().optional().describe("ignored: rCTF enforces it itself"),
  }),
  refusals: [404, 409, 429],
  async handler({ deps, requestId }, form) {
    const { config } = deps;
    const teamId = teamIdOf(form.teamId);
    await assertQueueReachable(deps);
    const row = await withTransaction(deps.db, async (tx) => {
      const challenge = await challengeOf(tx, form.challengeIntegrationId, "share");
      const admission = await admit(
        tx,
        { teamId, challengeId: challenge.id, requestId, containers: containersOf(challenge).length },
        admissionLimits(config),
      );
      if (!admission.ok) throw admissionRefusal(admission, config);
      if (!admission.created) {
        const started = await platformStartOf(tx, admission.row.id);
        if (!sameFlags(started?.flags ?? [], form.flags))
          throw new RctfRefusal(
            409,
            "Your instance of this challenge runs with other flags than the platform now gives. Stop it, then start it again.",
          );
        return admission.row;
      }
      await recordPlatformStart(tx, admission.row.id, {
        flags: form.flags,
        ttlSeconds: lifetimeSeconds(form.timeoutMilliseconds, config),
      });
      if ((await recordPlatformTeamFlag(tx, teamId, challenge.id, form.flags)).ok === false)
        throw new RctfRefusal(409, TAKEN_FLAG);
      // With no flag from the platform, a challenge with its own per-team flags keeps them.
      if (form.flags.length === 0 && challenge.flag_format && config.FLAG_SECRET)
        await issueFlag(
          tx,
          teamId,
          challenge.id,
          deriveFlag(config.FLAG_SECRET, teamId, challenge.id, challenge.flag_format),
        );
      return admission.row;
    }).catch((err: unknown) => {
      // Two teams racing with one flag: the second insert meets the unique index.
      if ((err as { constraint?: string }).constraint === "issued_flags_by_value")
        throw new RctfRefusal(409, TAKEN_FLAG);
      throw err;
    });
    if (row.state === "stopping")
      throw new RctfRefusal(409, "Your instance of this challenge is being stopped. Start it again in a few seconds.");
    if (row.state === "requested")
      await enqueueOrUnavailable(deps, JOB.start, { instanceId: row.id, requestId: row.request_id });
    return detailsOf(row);
  },
});
