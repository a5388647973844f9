import { z } from "zod";
import type { ChallengeRow } from "../../core/challenges.ts";

export const challengeViewSchema = z.object({
  id: z.string(),
  image: z.string(),
  port: z.number(),
  memory_mb: z.number(),
  cpus: z.number(),
  pids_limit: z.number(),
  ttl_seconds: z.number().nullable(),
  env_keys: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});

/** Env values may hold secrets for the challenge; the API shows their names only. */
export function challengeView(row: ChallengeRow): z.infer<typeof challengeViewSchema> {
  return {
    id: row.id,
    image: row.image,
    port: row.port,
    memory_mb: row.memory_mb,
    cpus: row.cpus,
    pids_limit: row.pids_limit,
    ttl_seconds: row.ttl_seconds,
    env_keys: Object.keys(row.env).sort(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
