import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { getChallenge } from "../domain/challenges.ts";
import { deriveFlag, flagOwner, recordSubmission, type FlagResult } from "../domain/flags.ts";
import { idSchema } from "../domain/ids.ts";
import { storableString } from "../domain/text.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

export default defineEndpoint({
  method: "POST",
  path: "/flags/verify",
  operationId: "verifyFlag",
  auth: "token",
  summary:
    "Check a team's flag for a challenge with per-team flags: correct, wrong, or other_team (another team's flag — recorded as a cheat signal).",
  body: z.strictObject({ team_id: idSchema, challenge_id: idSchema, flag: storableString().min(1).max(512) }),
  responses: { 200: z.object({ result: z.enum(["correct", "wrong", "other_team"]) }) },
  errors: [400, 401, 404, 409, 413, 415, 503],
  async handler({ deps, requestId, log }, { body }) {
    const challenge = await getChallenge(deps.db, body.challenge_id);
    if (!challenge) throw new AppError("not_found", `unknown challenge '${body.challenge_id}'`);
    if (!challenge.flag_format || !deps.config.FLAG_SECRET)
      throw new AppError("conflict", `challenge '${body.challenge_id}' does not issue per-team flags`);
    const own = deriveFlag(deps.config.FLAG_SECRET, body.team_id, body.challenge_id, challenge.flag_format);
    let result: FlagResult = "correct";
    let owner: string | null = body.team_id;
    if (!same(own, body.flag)) {
      owner = await flagOwner(deps.db, body.challenge_id, body.flag);
      result = owner ? "other_team" : "wrong";
    }
    await recordSubmission(deps.db, {
      teamId: body.team_id,
      challengeId: body.challenge_id,
      result,
      ownerTeamId: result === "other_team" ? owner : null,
      requestId,
    });
    if (result === "other_team")
      log.warn({ teamId: body.team_id, challengeId: body.challenge_id, ownerTeamId: owner }, "flag of another team");
    return { status: 200, body: { result } };
  },
});
