import { z } from "zod";
import { containersOf, exposuresOf } from "../../domain/challenge-shape.ts";
import type { ChallengeRow } from "../../domain/challenges.ts";

export const challengeViewSchema = z.object({
  id: z.string(),
  image: z.string().describe("The image of the first exposure's container"),
  port: z.number().describe("The first exposure's port"),
  protocol: z.enum(["http", "tcp"]).describe("The first exposure's protocol"),
  containers: z
    .array(
      z.object({
        name: z.string(),
        image: z.string(),
        command: z.array(z.string()).nullable(),
        env_keys: z.array(z.string()),
        memory_mb: z.number(),
        cpus: z.number(),
        pids_limit: z.number(),
        read_only: z.boolean(),
        cap_add: z.array(z.string()),
      }),
    )
    .describe("Every container, settings resolved (the single form's one is named main)"),
  expose: z.array(z.object({ container: z.string(), port: z.number(), protocol: z.enum(["http", "tcp"]) })),
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
    protocol: row.protocol,
    containers: containersOf(row).map(({ env, ...c }) => ({ ...c, env_keys: Object.keys(env).sort() })),
    expose: exposuresOf(row),
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
