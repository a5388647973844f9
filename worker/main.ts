// Worker entry point: parse config once, consume jobs, and drain on SIGTERM/SIGINT.
import { ConfigError, loadWorkerConfig, redactConfig } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { startWorker } from "./run.ts";

const logger = createLogger("worker");
try {
  const config = loadWorkerConfig(process.env);
  logger.info({ config: redactConfig(config) }, "starting worker");
  const worker = await startWorker(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    worker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (err) {
  if (err instanceof ConfigError) logger.fatal(err.message);
  else logger.fatal({ err }, "worker failed to start");
  process.exit(1);
}
