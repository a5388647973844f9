// Entry point of the db-restore container.
//   serve                    recover an interrupted run, then watch RESTORE_WATCH_DIR/incoming (default)
//   restore FILE [--dry-run] restore one file now; exit 0 restored (or dry-run passed), 1 failed
// Configuration errors exit 78.
import Docker from "dockerode";
import { ConfigError } from "../shared/config.ts";
import { sha256File } from "../shared/files.ts";
import { createLogger } from "../../core/logger.ts";
import type { RestoreConfig } from "./config.ts";
import { loadRestoreConfig, restoreConfigSummary } from "./config.ts";
import { recoverInterruptedRun } from "./recovery.ts";
import { restoreFile } from "./run.ts";
import { startRestoreService } from "./service.ts";

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  let config: RestoreConfig;
  try {
    config = loadRestoreConfig({ ...process.env, ...(rest.includes("--dry-run") ? { RESTORE_DRY_RUN: "true" } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger("db-restore").fatal(err.message);
    return 78;
  }
  const log = createLogger("db-restore", config.LOG_LEVEL);
  log.info({ command, config: restoreConfigSummary(config) }, "configuration");
  const docker = new Docker();

  if (command === "restore") {
    const file = rest.find((a) => !a.startsWith("--"));
    if (!file) {
      log.fatal("usage: restore FILE [--dry-run]");
      return 64;
    }
    await recoverInterruptedRun(config, docker, log);
    const identity = await sha256File(file);
    const result = await restoreFile({ config, docker, log }, file, { sha256: identity.sha256, size: identity.size });
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    return result.status === "failed" ? 1 : 0;
  }
  if (command === "serve") {
    const service = await startRestoreService({ config, docker, log });
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    log.info("stopping: a restore in progress finishes first");
    await service.stop();
    return 0;
  }
  log.fatal({ command }, "unknown command: use serve or restore FILE [--dry-run]");
  return 64;
}

process.exitCode = await main(process.argv.slice(2));
