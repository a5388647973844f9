import { z } from "zod";
import { admissionLimits, admit } from "../domain/lifecycle/admission.ts";
import { containersOf } from "../domain/challenge-shape.ts";
import { getChallenge } from "../domain/challenges.ts";
import { withTransaction } from "../infra/db.ts";
import { deriveFlag, issueFlag } from "../domain/flags.ts";
import { JOB } from "../infra/queue.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { assertQueueReachable, enqueueOrUnavailable } from "./shared/enqueue.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";
import { accepted, preferHeader, waitBudgetMs } from "./shared/async-answer.ts";
import { teamChallengeBody } from "./shared/team-challenge-body.ts";

const SETTLED = new Set(["running", "failed", "removed"]);

export default defineEndpoint({
  method: "POST",
  path: "/assign",
  operationId: "assignInstance",
  auth: "team",
  teamOf: ({ body }) => body.team_id,
  summary:
    "Give a team its own instance of a challenge. 200 with the address once it accepts connections; 202 with a Location while it starts. Idempotent while the instance is live.",
  headers: [preferHeader],
  body: teamChallengeBody,
  responses: {
    200: instanceViewSchema.extend({ message: z.string() }),
    202: instanceViewSchema.extend({ message: z.string(), status_url: z.string() }),
  },
  errors: [400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503],
  async handler({ deps, requestId, hono }, { body }) {
    await assertQueueReachable(deps);
    const { config } = deps;
    const { row, created } = await withTransaction(deps.db, async (tx) => {
      // FOR SHARE keeps the challenge from being deleted under a new instance.
      const challenge = await getChallenge(tx, body.challenge_id, "share");
      if (!challenge) throw new AppError("not_found", `unknown challenge '${body.challenge_id}'`);
      const admission = await admit(
        tx,
        { teamId: body.team_id, challengeId: body.challenge_id, requestId, containers: containersOf(challenge).length },
        admissionLimits(config),
      );
      if (!admission.ok)
        throw new AppError(admission.code, admission.message, {
          headers: admission.retryAfter ? { "Retry-After": String(admission.retryAfter) } : undefined,
        });
      if (admission.created && challenge.flag_format) {
        if (!config.FLAG_SECRET) throw new AppError("internal_error", "flag_format is set but FLAG_SECRET is not");
        const flag = deriveFlag(config.FLAG_SECRET, body.team_id, body.challenge_id, challenge.flag_format);
        await issueFlag(tx, body.team_id, body.challenge_id, flag);
      }
      return admission;
    });
    if (row.state === "stopping")
      throw new AppError("conflict", "this instance is being removed; assign again once it is gone", {
        headers: { "Retry-After": "2" },
        details: { instance_id: row.id },
      });
    if (created || row.state === "requested")
      await enqueueOrUnavailable(deps, JOB.start, { instanceId: row.id, requestId: row.request_id });

    const waitMs = waitBudgetMs(hono.req.header("prefer"), deps.config.ASSIGN_WAIT_SECONDS);
    const latest = (await deps.waiter.waitFor(row.id, (r) => SETTLED.has(r.state), waitMs)) ?? row;
    if (latest.state === "running")
      return {
        status: 200,
        body: {
          message: "Container assigned successfully.",
          ...instanceView(latest, deps.config),
        },
      };
    if (latest.state === "failed")
      throw new AppError("instance_failed", `the instance failed to start: ${latest.error ?? "unknown reason"}`, {
        details: { instance_id: latest.id, reason: latest.error },
      });
    if (latest.state === "removed")
      throw new AppError("conflict", "the instance was removed while starting; assign again", {
        details: { instance_id: latest.id },
      });
    return accepted(latest, "Container is starting.", deps.config);
  },
});
