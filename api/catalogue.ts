import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { catalogueSchema, specProblem, upsertChallenge } from "../domain/challenges.ts";
import type { ApiConfig } from "../infra/config.ts";
import type { Db } from "../infra/db.ts";

/** Loads CHALLENGES_FILE (JSON or YAML) into the catalogue; a bad file stops start-up with the reason. */
export async function loadCatalogue(db: Db, file: string, config: ApiConfig): Promise<string[]> {
  let raw: unknown;
  try {
    const text = await readFile(file, "utf8");
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`CHALLENGES_FILE: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = catalogueSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`CHALLENGES_FILE: ${file}: ${issue.path.join(".")}: ${issue.message}`);
  }
  const opts = { allowedCapabilities: config.ALLOWED_CAPABILITIES, flagSecretSet: Boolean(config.FLAG_SECRET) };
  for (const { id, ...spec } of parsed.data.challenges) {
    const problem = specProblem(spec, opts);
    if (problem) throw new Error(`CHALLENGES_FILE: ${file}: challenge '${id}': ${problem}`);
  }
  for (const { id, ...spec } of parsed.data.challenges) await upsertChallenge(db, id, spec);
  return parsed.data.challenges.map((c) => c.id);
}
