import { z } from "zod";
import { containersOf } from "../domain/challenge-shape.ts";
import { challengeSpecSchema, specProblem, upsertChallenge, type ChallengeRow } from "../domain/challenges.ts";
import { readEngineReport } from "../domain/engine-report.ts";
import { idSchema } from "../domain/ids.ts";
import type { AppDeps } from "../http/deps.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { challengeView, challengeViewSchema } from "./shared/challenge-view.ts";

const savedSchema = challengeViewSchema.extend({
  warnings: z
    .array(z.string())
    .describe(
      "What may keep instances of this challenge from starting: an image the engine lacks, more CPUs than it has",
    ),
});

/**
 * What keeps a challenge from starting on the engine, as the worker last saw it (the API has no Docker access;
 * see domain/engine-report.ts).
 */
async function engineWarnings(deps: AppDeps, row: ChallengeRow): Promise<string[]> {
  const warnings: string[] = [];
  for (const { image, cpus } of containersOf(row)) {
    const seen = await readEngineReport(deps.db, deps.config.DEPLOYMENT_NAME, image);
    if (!seen) return [`image '${image}' not checked: no worker has reported the Docker engine yet`];
    const asOf = `as of ${seen.reportedAt.toISOString()}`;
    if (seen.imagePresent === false)
      warnings.push(
        `image '${image}' is not on the Docker engine (${asOf}): build or load it there, or instances of this challenge fail to start`,
      );
    if (seen.cpus !== null && cpus > seen.cpus)
      warnings.push(
        `cpus ${cpus} is more than the Docker engine's ${seen.cpus} (${asOf}): instances of this challenge fail to start`,
      );
  }
  return [...new Set(warnings)];
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
    const warnings = await engineWarnings(deps, row);
    return { status: created ? 201 : 200, body: { ...challengeView(row), warnings } };
  },
});
