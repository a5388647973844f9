// Entry point of the db-backup container.
//   serve              scheduled backups, /healthz and /metrics (default)
//   now                one backup, exit code 0 ok, 1 failed, 2 local ok but S3 failed, 3 skipped (another backup or a
//                      restore holds the ops lock)
//   prune [--dry-run]  apply retention to the directory (and S3); --dry-run prints the plan and deletes nothing
// Configuration errors exit 78.
import { ConfigError } from "../shared/config.ts";
import { databaseName } from "../shared/postgres.ts";
import { createLogger } from "../../infra/logger.ts";
import type { BackupConfig } from "./config.ts";
import { backupConfigSummary, loadBackupConfig } from "./config.ts";
import { createNotifier } from "./notify.ts";
import { pruneLocal, pruneS3 } from "./prune.ts";
import { EXIT_CODE, retentionPolicy, runBackup } from "./run.ts";
import type { S3Store } from "./s3-store.ts";

async function s3FromConfig(c: BackupConfig): Promise<S3Store | undefined> {
  if (!c.BACKUP_S3_BUCKET) return undefined;
  // Loaded only when S3 is configured: the SDK alone costs tens of MB of resident memory.
  const { createS3Store } = await import("./s3-store.ts");
  return createS3Store({
    bucket: c.BACKUP_S3_BUCKET,
    prefix: c.BACKUP_S3_PREFIX,
    endpoint: c.BACKUP_S3_ENDPOINT,
    region: c.BACKUP_S3_REGION,
    forcePathStyle: c.BACKUP_S3_FORCE_PATH_STYLE,
    accessKeyId: c.BACKUP_S3_ACCESS_KEY_ID,
    secretAccessKey: c.BACKUP_S3_SECRET_ACCESS_KEY,
    checksum: c.BACKUP_S3_CHECKSUM,
    sse: c.BACKUP_S3_SSE,
    sseKmsKeyId: c.BACKUP_S3_SSE_KMS_KEY_ID,
    storageClass: c.BACKUP_S3_STORAGE_CLASS,
    partSizeBytes: c.BACKUP_S3_PART_SIZE_MB * 1024 * 1024,
    queueSize: c.BACKUP_S3_QUEUE_SIZE,
    timeoutMs: c.BACKUP_S3_TIMEOUT_SECONDS * 1000,
  });
}

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  let config: BackupConfig;
  try {
    config = loadBackupConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger("db-backup").fatal(err.message);
    return 78;
  }
  const log = createLogger("db-backup", config.LOG_LEVEL);
  log.info({ command, config: backupConfigSummary(config) }, "configuration");
  const s3 = await s3FromConfig(config);
  const notifier = createNotifier({ pingUrl: config.BACKUP_PING_URL, webhookUrl: config.BACKUP_WEBHOOK_URL, log });
  const deps = { config, log, s3, notifier };

  if (command === "now") {
    const outcome = await runBackup(deps, "manual");
    s3?.destroy();
    return EXIT_CODE[outcome.status];
  }
  if (command === "prune") {
    const dryRun = rest.includes("--dry-run");
    const policy = retentionPolicy(config);
    const opts = { dryRun, log, database: databaseName(config.DATABASE_URL) };
    const plans = { local: await pruneLocal(config.BACKUP_DIR, policy, opts) };
    const all = s3 ? { ...plans, s3: await pruneS3(s3, policy, opts) } : plans;
    process.stdout.write(JSON.stringify({ dryRun, ...all }, null, 2) + "\n");
    s3?.destroy();
    return 0;
  }
  if (command === "serve") {
    // Loaded only to serve: the scheduler, the probe server and the metrics registry cost `backup now` memory.
    const [{ startBackupService }, { createBackupMetrics }] = await Promise.all([
      import("./service.ts"),
      import("./metrics.ts"),
    ]);
    const service = await startBackupService({ ...deps, metrics: createBackupMetrics() });
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    log.info("stopping: a run in progress is aborted (pg_dump stopped, partial file removed, lock released)");
    await service.stop();
    s3?.destroy();
    return 0;
  }
  log.fatal({ command }, "unknown command: use serve, now, or prune [--dry-run]");
  return 64;
}

process.exitCode = await main(process.argv.slice(2));
