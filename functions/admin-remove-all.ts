import { z } from "zod";
import { idSchema } from "../domain/ids.ts";
import { liveOfChallenge } from "../domain/dashboard.ts";
import { transition } from "../domain/instances.ts";
import { JOB } from "../infra/queue.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { assertQueueReachable, enqueueOrUnavailable } from "./shared/enqueue.ts";

/** The state_reason of instances an organiser removed in bulk. */
const REMOVED_BY_ORGANISER = "removed by an organiser";

export default defineEndpoint({
  method: "POST",
  path: "/admin/challenges/:id/remove-all",
  operationId: "removeAllOfChallenge",
  auth: "token",
  summary:
    "Remove every live instance of one challenge (e.g. one whose containers keep dying). The body repeats the challenge id as a confirmation. Answers at once; the instances stop in the background.",
  params: z.object({ id: idSchema }),
  body: z.strictObject({ confirm: z.string().describe("The challenge id again, to confirm") }),
  responses: { 200: z.object({ challenge_id: z.string(), removing: z.number(), message: z.string() }) },
  errors: [400, 401, 403, 413, 415, 503],
  async handler({ deps, requestId }, { params, body }) {
    if (body.confirm !== params.id)
      throw new AppError("validation_failed", "body field 'confirm': must repeat the challenge id to confirm");
    await assertQueueReachable(deps);
    let removing = 0;
    for (const row of await liveOfChallenge(deps.db, params.id)) {
      const moved =
        row.state === "stopping"
          ? row
          : await transition(deps.db, row.id, ["requested", "starting", "running"], "stopping", {
              state_reason: REMOVED_BY_ORGANISER,
            });
      if (!moved) continue; // it ended meanwhile
      await enqueueOrUnavailable(deps, JOB.stop, { instanceId: row.id, requestId });
      removing++;
    }
    return {
      status: 200,
      body: { challenge_id: params.id, removing, message: `Removing ${removing} instance(s) of ${params.id}.` },
    };
  },
});
