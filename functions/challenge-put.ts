import { z } from "zod";
import { challengeSpecSchema, specProblem, upsertChallenge } from "../core/challenges.ts";
import { idSchema } from "../core/ids.ts";
import { defineEndpoint } from "../runtime/endpoint.ts";
import { AppError } from "../runtime/errors.ts";
import { challengeView, challengeViewSchema } from "./shared/challenge-view.ts";

export default defineEndpoint({
  method: "PUT",
  path: "/challenges/:id",
  auth: "token",
  summary:
    "Create or replace a challenge: image, internal port, limits, ttl, env. Running instances keep their settings.",
  params: z.object({ id: idSchema }),
  body: challengeSpecSchema,
  responses: { 200: challengeViewSchema, 201: challengeViewSchema },
  errors: [400, 401, 413, 415, 503],
  async handler({ deps, log }, { params, body }) {
    const problem = specProblem(body, {
      allowedCapabilities: deps.config.ALLOWED_CAPABILITIES,
      flagSecretSet: Boolean(deps.config.FLAG_SECRET),
    });
    if (problem) throw new AppError("validation_failed", problem);
    const { row, created } = await upsertChallenge(deps.db, params.id, body);
    log.info({ challengeId: row.id, image: row.image, created }, "challenge saved");
    return { status: created ? 201 : 200, body: challengeView(row) };
  },
});
