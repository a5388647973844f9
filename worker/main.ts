// Worker entry point: parse config once, consume jobs, and drain on SIGTERM/SIGINT.
import { loadWorkerConfig, SECRET_SETTINGS } from "../infra/config.ts";
import { redactConfig } from "../infra/redact.ts";
import { createLogger } from "../infra/logger.ts";
import { runService } from "../infra/process.ts";
import { startWorker } from "./run.ts";

const logger = createLogger("worker");
await runService(logger, async () => {
  const config = loadWorkerConfig(process.env);
  logger.info({ config: redactConfig(config, SECRET_SETTINGS) }, "starting worker");
  return startWorker(config, logger);
});
