import { findLive, listInstances } from "../../domain/instances.ts";
import { defineRctfAction, formBase } from "../../http/rctf-protocol.ts";
import { z } from "zod";
import { challengeOf, detailsOf, teamIdOf } from "./shared.ts";

export default defineRctfAction({
  method: "POST",
  kind: "instancerGetInstanceForm",
  operationId: "rctfGetInstance",
  summary:
    "rCTF: the team's instance of the challenge. `stopped` when none is live, `errored` when the last one failed, else its state, time left and endpoint.",
  form: formBase.extend({ kind: z.literal("instancerGetInstanceForm") }),
  refusals: [404],
  async handler({ deps }, form) {
    const teamId = teamIdOf(form.teamId);
    const challenge = await challengeOf(deps.db, form.challengeIntegrationId);
    const live = await findLive(deps.db, teamId, challenge.id);
    if (live) return detailsOf(live);
    const [latest] = await listInstances(deps.db, { teamId, challengeId: challenge.id, limit: 1 });
    return detailsOf(latest ?? null);
  },
});
