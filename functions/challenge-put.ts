import { z } from "zod";
import { challengeSpecSchema, specProblem, upsertChallenge } from "../core/challenges.ts";
import { engineHasImage } from "../core/engine-images.ts";
import { idSchema } from "../core/ids.ts";
import type { AppDeps } from "../runtime/deps.ts";
import { defineEndpoint } from "../runtime/endpoint.ts";
import { AppError } from "../runtime/errors.ts";
import { challengeView, challengeViewSchema } from "./shared/challenge-view.ts";

const savedSchema = challengeViewSchema.extend({
  warnings: z
    .array(z.string())
    .describe("What may keep instances of this challenge from starting, e.g. an image the engine lacks"),
});

/** The engine is the worker's; what it holds is known from the worker's last report (see core/engine-images.ts). */
async function imageWarnings(deps: AppDeps, image: string): Promise<string[]> {
  const seen = await engineHasImage(deps.db, deps.config.DEPLOYMENT_NAME, image);
  if (!seen) return [`image '${image}' not checked: no worker has reported the Docker engine's images yet`];
  if (seen.present) return [];
  return [
    `image '${image}' is not on the Docker engine (as of ${seen.reportedAt.toISOString()}): build or load it there, or instances of this challenge fail to start`,
  ];
}

export default defineEndpoint({
  method: "PUT",
  path: "/challenges/:id",
  operationId: "putChallenge",
  auth: "token",
  summary:
    "Create or replace a challenge: image, internal port, limits, ttl, env. Running instances keep their settings.",
  params: z.object({ id: idSchema }),
  body: challengeSpecSchema,
  responses: { 200: savedSchema, 201: savedSchema },
  errors: [400, 401, 413, 415, 503],
  async handler({ deps, log }, { params, body }) {
    const problem = specProblem(body, {
      allowedCapabilities: deps.config.ALLOWED_CAPABILITIES,
      flagSecretSet: Boolean(deps.config.FLAG_SECRET),
    });
    if (problem) throw new AppError("validation_failed", problem);
    const { row, created } = await upsertChallenge(deps.db, params.id, body);
    log.info({ challengeId: row.id, image: row.image, created }, "challenge saved");
    const warnings = await imageWarnings(deps, row.image);
    return { status: created ? 201 : 200, body: { ...challengeView(row), warnings } };
  },
});
