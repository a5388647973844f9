import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { getChallenge } from "../domain/challenges.ts";
import { deriveFlag, flagOwner, issuedFlag, recordSubmission, type FlagResult } from "../domain/flags.ts";
import { challengeHasRecordedFlags } from "../domain/platform-flags.ts";
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
    "Check a team's flag for a challenge with per-team flags (derived from flag_format, or minted by a platform such as rCTF): correct, wrong, or other_team (another team's flag — recorded as a cheat signal).",
  body: z.strictObject({ team_id: idSchema, challenge_id: idSchema, flag: storableString().min(1).max(512) }),
  responses: { 200: z.object({ result: z.enum(["correct", "wrong", "other_team"]) }) },
  errors: [400, 401, 404, 409, 413, 415, 503],
  async handler({ deps, requestId, log }, { body }) {
    const challenge = await getChallenge(deps.db, body.challenge_id);
    if (!challenge) throw new AppError("not_found", `unknown challenge '${body.challenge_id}'`);
    // A team's flag is the one recorded for it (derived at assign, or minted by a platform such as rCTF), else the
    // one derived for it.
    const { flag_format: format } = challenge;
    const secret = deps.config.FLAG_SECRET;
    const derived = format && secret ? deriveFlag(secret, body.team_id, body.challenge_id, format) : null;
    const recorded = await issuedFlag(deps.db, body.team_id, body.challenge_id);
    if (!recorded && !derived && !(await challengeHasRecordedFlags(deps.db, body.challenge_id)))
      throw new AppError("conflict", `challenge '${body.challenge_id}' does not issue per-team flags`);
    const own = recorded ?? derived;
    let result: FlagResult = "correct";
    let owner: string | null = body.team_id;
    if (own === null || !same(own, body.flag)) {
      owner = await flagOwner(deps.db, body.challenge_id, body.flag);
      result = owner && owner !== body.team_id ? "other_team" : "wrong";
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
