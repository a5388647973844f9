import { z } from "zod";
import type { DbClient } from "../infra/db.ts";
import { idSchema } from "./ids.ts";
import { storableString } from "./text.ts";
import {
  capAddSchema,
  containerSchema,
  cpusSchema,
  envSchema,
  exposureSchema,
  imageRefSchema,
  memoryMbSchema,
  pidsLimitSchema,
  protocolSchema,
  shapeIssues,
  type Protocol,
  type ShapeFields,
} from "./challenge-shape.ts";

/** The fields an operator may set for a challenge; their combinations are checked by `challengeSpecSchema`. */
const specFields = z.strictObject({
  image: imageRefSchema.optional().describe("The single-container form: its image (or give containers)"),
  port: z.number().int().min(1).max(65535).optional().describe("The single-container form: its port"),
  protocol: protocolSchema
    .optional()
    .describe("The single-container form: how its port is reached, http (default) or tcp"),
  containers: z
    .array(containerSchema)
    .min(1)
    .max(8)
    .nullable()
    .default(null)
    .describe("Named containers sharing the instance's network, reaching each other by name"),
  expose: z
    .array(exposureSchema)
    .min(1)
    .max(8)
    .nullable()
    .default(null)
    .describe("With containers: the (container, port, protocol) players reach"),
  memory_mb: memoryMbSchema.default(256),
  // The numeric(6,3) column would round a value under a thousandth to 0.
  cpus: cpusSchema.default(0.5).describe("CPUs, 0.01–64, kept to three decimals"),
  cpus_reserved: z
    .number()
    .min(0.001)
    .max(64)
    .nullable()
    .default(null)
    .describe(
      "CPUs a Swarm node keeps for each instance (ENGINE=swarm), at most cpus; null reserves all of cpus. Memory is always reserved in full",
    ),
  pids_limit: pidsLimitSchema.default(128),
  ttl_seconds: z.number().int().min(5).max(604800).nullable().default(null),
  env: envSchema
    .default({})
    .describe(
      "Environment of every container. Names must be shell identifiers ([A-Za-z_][A-Za-z0-9_]*); values are strings of at most 4096 characters without NUL",
    ),
  // Capabilities to keep (all others are dropped); must be in the operator's ALLOWED_CAPABILITIES.
  cap_add: capAddSchema
    .default([])
    .describe(
      "Capabilities to keep (all others are dropped), with or without CAP_, any case; each must be in the server's ALLOWED_CAPABILITIES",
    ),
  /** Read-only root filesystem, with a tmpfs on /tmp. */
  read_only: z.boolean().default(false),
  /** Outbound connections beyond the host; off unless the challenge needs them. */
  egress: z.boolean().default(false),
  /** Start the container again when it exits, up to MAX_RESTARTS times. */
  restart_on_exit: z.boolean().default(false),
  placement: z
    .array(
      z
        .string()
        .regex(
          /^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]+)|engine\.labels\.[A-Za-z0-9_.-]+) *(==|!=) *[A-Za-z0-9_.*/:-]+$/,
          "must be a Swarm placement constraint: node.<attribute> or engine.labels.<name>, == or !=, and a value",
        ),
    )
    .max(16)
    .default([])
    .describe(
      "Swarm placement constraints (ENGINE=swarm), e.g. node.labels.tier==pwn; every one must hold on the node. Ignored by ENGINE=docker",
    ),
  /** Per-team flag template, `{}` marks where the team's HMAC goes, e.g. `flag{{}}`. */
  flag_format: storableString()
    .max(200)
    .refine((f) => f.includes("{}"), "must contain {} where the team's secret part goes")
    .nullable()
    .default(null)
    .describe("Per-team flag template; must contain {}, which becomes the team's secret part. Needs FLAG_SECRET"),
});

const withShapeRules = <T extends z.ZodType<Parameters<typeof shapeIssues>[0]>>(schema: T) =>
  schema.superRefine((spec, ctx) => {
    for (const issue of shapeIssues(spec)) ctx.addIssue({ code: "custom", ...issue });
  });

/** What an operator may set for a challenge (PUT /challenges/{id} body, and each entry of CHALLENGES_FILE). */
export const challengeSpecSchema = withShapeRules(specFields);

export type ChallengeSpec = z.infer<typeof challengeSpecSchema>;

export const catalogueSchema = z.strictObject({
  challenges: z.array(withShapeRules(specFields.extend({ id: idSchema }))),
});

/** A stored challenge: `image`/`port` are those of its first exposure, so every challenge has them. */
export interface ChallengeRow extends Omit<ChallengeSpec, "image" | "port" | "protocol">, ShapeFields {
  id: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, image, port, protocol, containers, expose, memory_mb, cpus::float8 AS cpus, cpus_reserved::float8 AS cpus_reserved, pids_limit, ttl_seconds, env, cap_add, read_only,
  egress, restart_on_exit, flag_format, placement, created_at, updated_at`;

export async function listChallenges(db: DbClient): Promise<ChallengeRow[]> {
  return (await db.query<ChallengeRow>(`SELECT ${COLUMNS} FROM challenges ORDER BY id`)).rows;
}

export async function getChallenge(db: DbClient, id: string, lock: "share" | "update" | null = null) {
  const suffix = lock === "share" ? " FOR SHARE" : lock === "update" ? " FOR UPDATE" : "";
  const res = await db.query<ChallengeRow>(`SELECT ${COLUMNS} FROM challenges WHERE id = $1${suffix}`, [id]);
  return res.rows[0] ?? null;
}

export async function upsertChallenge(
  db: DbClient,
  id: string,
  spec: ChallengeSpec,
): Promise<{ row: ChallengeRow; created: boolean }> {
  const primary = primaryOf(spec);
  const res = await db.query<ChallengeRow & { created: boolean }>(
    `INSERT INTO challenges (id, image, port, memory_mb, cpus, pids_limit, ttl_seconds, env, cap_add, read_only,
       egress, restart_on_exit, flag_format, placement, cpus_reserved, protocol, containers, expose)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     ON CONFLICT (id) DO UPDATE SET image = $2, port = $3, memory_mb = $4, cpus = $5, pids_limit = $6,
       ttl_seconds = $7, env = $8, cap_add = $9, read_only = $10, egress = $11, restart_on_exit = $12,
       flag_format = $13, placement = $14, cpus_reserved = $15, protocol = $16, containers = $17, expose = $18,
       updated_at = now()
     RETURNING ${COLUMNS}, (xmax = 0) AS created`,
    [
      id,
      primary.image,
      primary.port,
      spec.memory_mb,
      spec.cpus,
      spec.pids_limit,
      spec.ttl_seconds,
      JSON.stringify(spec.env),
      spec.cap_add,
      spec.read_only,
      spec.egress,
      spec.restart_on_exit,
      spec.flag_format,
      spec.placement,
      spec.cpus_reserved,
      primary.protocol,
      spec.containers && JSON.stringify(spec.containers),
      spec.expose && JSON.stringify(spec.expose),
    ],
  );
  const { created, ...row } = res.rows[0]!;
  return { row, created };
}

/** The image, port and protocol a challenge is listed with: its own, or those of its first exposure. */
function primaryOf(spec: ChallengeSpec): { image: string; port: number; protocol: Protocol } {
  if (!spec.containers || !spec.expose)
    return { image: spec.image!, port: spec.port!, protocol: spec.protocol ?? "http" };
  const first = spec.expose[0]!;
  return {
    image: spec.containers.find((c) => c.name === first.container)!.image,
    port: first.port,
    protocol: first.protocol,
  };
}

/**
 * What the operator's settings forbid in a spec (capabilities outside the allow-list, flags without a secret);
 * null when it is acceptable.
 */
export function specProblem(
  spec: ChallengeSpec,
  opts: { allowedCapabilities: readonly string[]; flagSecretSet: boolean },
): string | null {
  const asked = [...spec.cap_add, ...(spec.containers ?? []).flatMap((c) => c.cap_add ?? [])];
  const refused = [...new Set(asked)].filter((c) => !opts.allowedCapabilities.includes(c));
  if (refused.length)
    return `cap_add: ${refused.join(", ")} not in ALLOWED_CAPABILITIES (${opts.allowedCapabilities.join(", ")})`;
  if (spec.flag_format && !opts.flagSecretSet) return "flag_format: set FLAG_SECRET to issue per-team flags";
  if (spec.cpus_reserved !== null && spec.cpus_reserved > spec.cpus)
    return `cpus_reserved: ${spec.cpus_reserved} is more than cpus (${spec.cpus})`;
  return null;
}

export async function deleteChallenge(db: DbClient, id: string): Promise<void> {
  await db.query("DELETE FROM challenges WHERE id = $1", [id]);
}
