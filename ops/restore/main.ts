// Entry point of the db-restore container (the image's `restore` command runs it).
//   restore [serve]                 recover an interrupted run, then watch RESTORE_WATCH_DIR/incoming (default)
//   restore FILE [--dry-run]        restore one file now; exit 0 restored (or dry-run passed), 1 failed
//   restore restore FILE [--dry-run]  the same (the long form)
// A dry run leaves the file where it is. Exit 3: the ops lock stayed held for RESTORE_LOCK_WAIT_SECONDS (a backup or
// another restore runs; nothing was done). Usage errors exit 64, configuration errors 78.
import Docker from "dockerode";
import { ConfigError } from "../shared/config.ts";
import { LockBusyError } from "../shared/lock.ts";
import { sha256File } from "../shared/files.ts";
import { createLogger, type Logger } from "../../infra/logger.ts";
import type { RestoreConfig } from "./config.ts";
import { loadRestoreConfig, restoreConfigSummary } from "./config.ts";
import { recoverInterruptedRun } from "./recovery.ts";
import { restoreFile } from "./run.ts";
import { startRestoreService } from "./service.ts";

/** `serve`, or a restore of one file: `FILE`, `restore FILE`, with `--dry-run` anywhere. */
function parseArgs(argv: string[]): { command: "serve" } | { command: "restore"; file?: string; dryRun: boolean } {
  if (argv.length === 0 || (argv[0] === "serve" && argv.length === 1)) return { command: "serve" };
  const rest = argv[0] === "restore" ? argv.slice(1) : argv;
  const dryRun = rest.includes("--dry-run");
  const others = rest.filter((a) => a !== "--dry-run");
  const file = others.length === 1 && !others[0]!.startsWith("-") && others[0] !== "serve" ? others[0] : undefined;
  return { command: "restore", file, dryRun };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const { command } = args;
  let config: RestoreConfig;
  try {
    const dryRun = args.command === "restore" && args.dryRun;
    config = loadRestoreConfig({ ...process.env, ...(dryRun ? { RESTORE_DRY_RUN: "true" } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger("db-restore").fatal(err.message);
    return 78;
  }
  const log = createLogger("db-restore", config.LOG_LEVEL);
  log.info({ command, config: restoreConfigSummary(config) }, "configuration");
  const docker = new Docker();

  if (args.command === "restore") {
    const { file } = args;
    if (!file) {
      log.fatal({ argv }, "usage: restore FILE [--dry-run], or restore serve");
      return 64;
    }
    try {
      return await restoreOne(config, docker, log, file);
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw err;
      log.error(
        { holder: err.holder, waitedSeconds: config.RESTORE_LOCK_WAIT_SECONDS },
        "the ops lock is still held (a backup or another restore runs): nothing was done; try again later",
      );
      return 3;
    }
  }
  const service = await startRestoreService({ config, docker, log });
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  log.info("stopping: a restore in progress finishes first");
  await service.stop();
  return 0;
}

async function restoreOne(config: RestoreConfig, docker: Docker, log: Logger, file: string): Promise<number> {
  await recoverInterruptedRun(config, docker, log);
  const identity = await sha256File(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
    return null;
  });
  if (!identity) {
    log.error({ file }, "no such file (the watcher may have taken it from incoming/)");
    return 1;
  }
  const result = await restoreFile(
    { config, docker, log },
    file,
    { sha256: identity.sha256, size: identity.size },
    { keepDryRunFile: true },
  );
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  return result.status === "ok" || result.status === "dry-run" ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
