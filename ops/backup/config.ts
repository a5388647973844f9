import cron from "node-cron";
import { z } from "zod";
import type { Env } from "../shared/config.ts";
import { redactConfig } from "../../infra/redact.ts";
import { absolutePath, bool, httpUrl, int, parseEnv, postgresUrl } from "../shared/config.ts";

const SECRETS = [
  "DATABASE_URL",
  "BACKUP_S3_ACCESS_KEY_ID",
  "BACKUP_S3_SECRET_ACCESS_KEY",
  "BACKUP_WEBHOOK_URL",
  "BACKUP_PING_URL",
] as const;

const schema = z
  .object({
    DATABASE_URL: postgresUrl,
    BACKUP_DIR: absolutePath.default("/backups"),
    // Either a cron expression (5 or 6 fields, evaluated in BACKUP_TIMEZONE) or a fixed interval.
    BACKUP_SCHEDULE: z
      .string()
      .refine((v) => cron.validate(v), "must be a valid cron expression")
      .optional(),
    BACKUP_TIMEZONE: z
      .string()
      .default("UTC")
      // UTC first: the list of zones loads ICU time zone data (~0.5 MB resident) that the default never needs.
      .refine((tz) => tz === "UTC" || Intl.supportedValuesOf("timeZone").includes(tz), "must be an IANA time zone"),
    BACKUP_INTERVAL_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(31 * 86400)
      .optional(),
    BACKUP_ON_START: bool(true),
    BACKUP_FORMAT: z.enum(["custom", "plain"]).default("custom"),
    // Level 1 by measurement (bench:backup, 1 GB): 6.0 s against 15.2 s at 6, for 14% more bytes (244 MB, 214 MB).
    BACKUP_COMPRESSION: z
      .string()
      .default("1")
      .refine((v) => /^(\d|(gzip|lz4|zstd)(:\d{1,2})?|none)$/.test(v), "must be 0-9 or gzip|lz4|zstd[:level]"),
    // A dump smaller than this fraction of the previous verified one fails (an emptied database); 0 turns it off.
    BACKUP_MIN_SIZE_RATIO: z.coerce.number().min(0).max(1).default(0.5),
    BACKUP_KEEP_LAST: int(1, 10000, 7),
    BACKUP_KEEP_DAILY: int(0, 10000, 7),
    BACKUP_KEEP_WEEKLY: int(0, 10000, 4),
    BACKUP_KEEP_MONTHLY: int(0, 10000, 3),
    BACKUP_LOCK_FILE: absolutePath.optional(),
    BACKUP_LOCK_STALE_SECONDS: int(10, 86400, 120),
    // pg_dump waits at most this long for each table's lock (a long migration holds one): then the run fails.
    BACKUP_LOCK_WAIT_TIMEOUT_SECONDS: int(1, 86400, 60),
    // A run (dump, verification, retention, S3) still going after this is aborted, so it never holds the lock forever.
    BACKUP_RUN_TIMEOUT_SECONDS: int(1, 7 * 86400, 6 * 3600),
    PG_DUMP_BIN: z.string().min(1).default("pg_dump"),
    PG_RESTORE_BIN: z.string().min(1).default("pg_restore"),
    BACKUP_PROGRESS_INTERVAL_SECONDS: int(1, 3600, 10),
    BACKUP_HEALTH_HOST: z.string().default("0.0.0.0"),
    BACKUP_HEALTH_PORT: int(0, 65535, 8080),
    // Unhealthy once the last good backup is older than this many schedule periods.
    BACKUP_HEALTH_MAX_AGE_FACTOR: z.coerce.number().min(1).max(100).default(2),
    BACKUP_WEBHOOK_URL: httpUrl.optional(),
    BACKUP_PING_URL: httpUrl.optional(),
    BACKUP_S3_BUCKET: z.string().min(3).optional(),
    BACKUP_S3_PREFIX: z
      .string()
      .default("")
      .refine((v) => !v.startsWith("/"), "must not start with /"),
    BACKUP_S3_ENDPOINT: httpUrl.optional(),
    BACKUP_S3_REGION: z.string().default("us-east-1"),
    BACKUP_S3_FORCE_PATH_STYLE: bool(false),
    BACKUP_S3_ACCESS_KEY_ID: z.string().optional(),
    BACKUP_S3_SECRET_ACCESS_KEY: z.string().optional(),
    // when_required: no SDK-added checksums, for S3-compatible stores that reject them.
    BACKUP_S3_CHECKSUM: z.enum(["when_supported", "when_required"]).default("when_supported"),
    BACKUP_S3_SSE: z.enum(["AES256", "aws:kms", "aws:kms:dsse"]).optional(),
    BACKUP_S3_SSE_KMS_KEY_ID: z.string().optional(),
    BACKUP_S3_STORAGE_CLASS: z
      .string()
      .regex(/^[A-Z_]+$/, "must be an S3 storage class name")
      .optional(),
    // 5 MB × 2 in flight keeps the whole service under ~150 MB resident; S3 allows 10,000 parts, so 5 MB parts
    // carry dumps up to ~50 GB (raise the part size beyond that).
    BACKUP_S3_PART_SIZE_MB: int(5, 5120, 5),
    BACKUP_S3_QUEUE_SIZE: int(1, 64, 2),
    // An S3 connection not made, or a request with no byte moving, for this long fails (and is retried twice).
    BACKUP_S3_TIMEOUT_SECONDS: int(1, 3600, 60),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((c, ctx) => {
    if (c.BACKUP_SCHEDULE && c.BACKUP_INTERVAL_SECONDS)
      ctx.addIssue({
        code: "custom",
        path: ["BACKUP_SCHEDULE"],
        message: "set BACKUP_SCHEDULE or BACKUP_INTERVAL_SECONDS, not both",
      });
    // pg_dump gzips plain output itself; at 0 it would write uncompressed text under a .sql.gz name.
    if (c.BACKUP_FORMAT === "plain" && !/^[1-9]$/.test(c.BACKUP_COMPRESSION))
      ctx.addIssue({ code: "custom", path: ["BACKUP_COMPRESSION"], message: "plain format takes a gzip level 1-9" });
    if (c.BACKUP_S3_SECRET_ACCESS_KEY && !c.BACKUP_S3_ACCESS_KEY_ID)
      ctx.addIssue({
        code: "custom",
        path: ["BACKUP_S3_ACCESS_KEY_ID"],
        message: "is required with BACKUP_S3_SECRET_ACCESS_KEY",
      });
  })
  .transform((c) => ({
    ...c,
    BACKUP_SCHEDULE: c.BACKUP_INTERVAL_SECONDS ? undefined : (c.BACKUP_SCHEDULE ?? "0 * * * *"),
    BACKUP_LOCK_FILE: c.BACKUP_LOCK_FILE ?? `${c.BACKUP_DIR.replace(/\/$/, "")}/.ops.lock`,
  }));

export type BackupConfig = z.infer<typeof schema>;

export function loadBackupConfig(env: Env): BackupConfig {
  return parseEnv(schema, env, SECRETS);
}

export function backupConfigSummary(config: BackupConfig): Record<string, unknown> {
  return redactConfig(config, ["BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY"]);
}
