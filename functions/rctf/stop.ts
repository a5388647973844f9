import { z } from "zod";
import { findLive, REMOVED_ON_REQUEST, transition } from "../../domain/instances.ts";
import { checkRemoval } from "../../domain/lifecycle/cooldown.ts";
import { JOB } from "../../infra/queue.ts";
import { defineRctfAction, formBase, RctfRefusal } from "../../http/rctf-protocol.ts";
import { assertQueueReachable, enqueueOrUnavailable } from "../shared/enqueue.ts";
import { challengeOf, detailsOf, teamIdOf } from "./shared.ts";

export default defineRctfAction({
  method: "DELETE",
  kind: "instancerDeleteInstanceForm",
  operationId: "rctfStopInstance",
  summary:
    "rCTF: stop the team's instance of the challenge. Answers at once (`stopping`); `stopped` when nothing is live.",
  form: formBase.extend({ kind: z.literal("instancerDeleteInstanceForm") }),
  refusals: [404, 429],
  async handler({ deps, requestId }, form) {
    const teamId = teamIdOf(form.teamId);
    const challenge = await challengeOf(deps.db, form.challengeIntegrationId);
    let row = await findLive(deps.db, teamId, challenge.id);
    if (!row) return detailsOf(null);
    const check = checkRemoval(row, deps.config.COOLDOWN_SECONDS);
    if (!check.ok)
      throw new RctfRefusal(
        429,
        `This instance started moments ago. Wait ${check.retryAfterSeconds} s before stopping it.`,
      );
    await assertQueueReachable(deps);
    if (row.state !== "stopping")
      row =
        (await transition(deps.db, row.id, ["requested", "starting", "running"], "stopping", {
          state_reason: REMOVED_ON_REQUEST,
        })) ?? row;
    await enqueueOrUnavailable(deps, JOB.stop, { instanceId: row.id, requestId });
    return detailsOf(row);
  },
});
