import { z } from "zod";
import type { ChallengeRow } from "../../domain/challenges.ts";

export const challengeViewSchema = z.object({
  id: z.string(),
  image: z.string(),
  port: z.number(),
  memory_mb: z.number(),
  cpus: z.number(),
  cpus_reserved: z.number().nullable(),
  pids_limit: z.number(),
  ttl_seconds: z.number().nullable(),
  env_keys: z.array(z.string()),
  cap_add: z.array(z.string()),
  read_only: z.boolean(),
  egress: z.boolean(),
  restart_on_exit: z.boolean(),
  flag_format: z.string().nullable(),
  placement: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});

/** Every setting of a challenge; env values may hold secrets for it, so only their names are shown. */
export function challengeView(row: ChallengeRow): z.infer<typeof challengeViewSchema> {
  return {
    id: row.id,
    image: row.image,
    port: row.port,
    memory_mb: row.memory_mb,
    cpus: row.cpus,
    cpus_reserved: row.cpus_reserved,
    pids_limit: row.pids_limit,
    ttl_seconds: row.ttl_seconds,
    env_keys: Object.keys(row.env).sort(),
    cap_add: row.cap_add,
    read_only: row.read_only,
    egress: row.egress,
    restart_on_exit: row.restart_on_exit,
    flag_format: row.flag_format,
    placement: row.placement,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
