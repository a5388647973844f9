import { z } from "zod";
import { findLive, REMOVED_ON_REQUEST, transition } from "../domain/instances.ts";
import { JOB } from "../infra/queue.ts";
import { checkRemoval } from "../domain/lifecycle/cooldown.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { assertQueueReachable, enqueueOrUnavailable } from "./shared/enqueue.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";
import { accepted, preferHeader, waitBudgetMs } from "./shared/async-answer.ts";
import { teamChallengeBody } from "./shared/team-challenge-body.ts";

export default defineEndpoint({
  method: "POST",
  path: "/remove",
  operationId: "removeInstance",
  auth: "team",
  teamOf: ({ body }) => body.team_id,
  summary:
    "Take a team's instance of a challenge away. 200 once the container is gone; 202 with a Location while it stops.",
  headers: [preferHeader],
  body: teamChallengeBody,
  responses: {
    200: instanceViewSchema.extend({ message: z.string() }),
    202: instanceViewSchema.extend({ message: z.string(), status_url: z.string() }),
  },
  errors: [400, 401, 403, 404, 413, 415, 429, 503],
  async handler({ deps, requestId, hono }, { body }) {
    await assertQueueReachable(deps);
    let row = await findLive(deps.db, body.team_id, body.challenge_id);
    if (!row) throw new AppError("not_found", `team '${body.team_id}' has no live instance of '${body.challenge_id}'`);
    const check = checkRemoval(row, deps.config.COOLDOWN_SECONDS);
    if (!check.ok)
      throw new AppError("cooldown", "this instance was assigned moments ago; wait before removing it", {
        headers: { "Retry-After": String(check.retryAfterSeconds) },
      });
    if (row.state !== "stopping") {
      row =
        (await transition(deps.db, row.id, ["requested", "starting", "running"], "stopping", {
          state_reason: REMOVED_ON_REQUEST,
        })) ?? row;
    }
    await enqueueOrUnavailable(deps, JOB.stop, { instanceId: row.id, requestId });

    const waitForMs = waitBudgetMs(hono.req.header("prefer"), deps.config.ASSIGN_WAIT_SECONDS);
    const gone = (state: string) => state === "removed" || state === "failed";
    const latest = (await deps.waiter.waitFor(row.id, (r) => gone(r.state), waitForMs)) ?? row;
    if (gone(latest.state))
      return {
        status: 200,
        body: { message: "Container removed successfully.", ...instanceView(latest, deps.config) },
      };
    return accepted(latest, "Container is being removed.", deps.config);
  },
});
