import { availableParallelism } from "node:os";
import { z } from "zod";
import type { Env } from "../shared/config.ts";
import { redactConfig } from "../../infra/redact.ts";
import { absolutePath, bool, httpUrl, int, parseEnv, postgresUrl } from "../shared/config.ts";
import { databaseName } from "../shared/postgres.ts";

const SECRETS = ["RESTORE_DATABASE_URL", "RESTORE_WEBHOOK_URL"] as const;
const list = z
  .string()
  .default("")
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

const schema = z
  .object({
    // A superuser (or the database owner with CREATEDB) on the server holding the live database.
    RESTORE_DATABASE_URL: postgresUrl,
    RESTORE_WATCH_DIR: absolutePath.default("/backups/restore"),
    RESTORE_POLL_INTERVAL: z.coerce.number().min(0.05).max(3600).default(5),
    // A file counts as complete once size and mtime held still this long (or a NAME.ready marker appears).
    RESTORE_STABLE_SECONDS: z.coerce.number().min(0).max(3600).default(10),
    RESTORE_STATE_FILE: absolutePath.optional(),
    RESTORE_MODE: z.enum(["swap", "in-place"]).default("swap"),
    // Parallel pg_restore jobs for custom-format dumps in swap mode (nearly all of the load is downtime).
    RESTORE_JOBS: int(1, 32, Math.min(availableParallelism(), 8)),
    // Databases a restore may replace; the target's own name by default. postgres and template* never.
    RESTORE_ALLOWED_DATABASES: list,
    RESTORE_KEEP_OLD_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 365)
      .default(24),
    RESTORE_PRE_BACKUP: bool(true),
    RESTORE_PRE_BACKUP_DIR: absolutePath.default("/backups/pre-restore"),
    RESTORE_STOP_CONTAINERS: list,
    RESTORE_STOP_LABEL: z
      .string()
      .regex(/^[^=\s]+(=[^\s]*)?$/, "must be key or key=value")
      .optional(),
    RESTORE_START_CONTAINERS: list,
    // Lets RESTORE_STOP_CONTAINERS name compose services (web, worker) of this compose project.
    RESTORE_COMPOSE_PROJECT: z.string().optional(),
    RESTORE_STOP_TIMEOUT_SECONDS: int(0, 600, 30),
    RESTORE_START_TIMEOUT_SECONDS: int(1, 3600, 120),
    RESTORE_MAINTENANCE_FLAG_FILE: absolutePath.default("/run/gateway-flags/maintenance.on"),
    RESTORE_LOCK_FILE: absolutePath.default("/backups/.ops.lock"),
    RESTORE_LOCK_WAIT_SECONDS: int(0, 86400, 3600),
    RESTORE_SQLITE_PATH: absolutePath.optional(),
    RESTORE_DRY_RUN: bool(false),
    RESTORE_WEBHOOK_URL: httpUrl.optional(),
    RESTORE_METRICS_PORT: int(0, 65535, 9465),
    RESTORE_METRICS_HOST: z.string().default("0.0.0.0"),
    PG_DUMP_BIN: z.string().min(1).default("pg_dump"),
    PG_RESTORE_BIN: z.string().min(1).default("pg_restore"),
    PSQL_BIN: z.string().min(1).default("psql"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .transform((c) => {
    const target = databaseName(c.RESTORE_DATABASE_URL);
    return {
      ...c,
      RESTORE_STATE_FILE: c.RESTORE_STATE_FILE ?? `${c.RESTORE_WATCH_DIR.replace(/\/$/, "")}/.restore-state.json`,
      RESTORE_ALLOWED_DATABASES: c.RESTORE_ALLOWED_DATABASES.length ? c.RESTORE_ALLOWED_DATABASES : [target],
      targetDatabase: target,
    };
  })
  .superRefine((c, ctx) => {
    if (!c.RESTORE_ALLOWED_DATABASES.includes(c.targetDatabase))
      ctx.addIssue({
        code: "custom",
        path: ["RESTORE_ALLOWED_DATABASES"],
        message: `does not list the target database ${c.targetDatabase}`,
      });
    if (isProtectedDatabase(c.targetDatabase))
      ctx.addIssue({
        code: "custom",
        path: ["RESTORE_DATABASE_URL"],
        message: `names ${c.targetDatabase}, which a restore never replaces`,
      });
  });

export type RestoreConfig = z.infer<typeof schema>;

export function isProtectedDatabase(name: string): boolean {
  return name === "postgres" || name.startsWith("template");
}

export function loadRestoreConfig(env: Env): RestoreConfig {
  return parseEnv(schema, env, SECRETS);
}

export function restoreConfigSummary(c: RestoreConfig): Record<string, unknown> {
  return redactConfig(c, ["RESTORE_WEBHOOK_URL"]);
}
