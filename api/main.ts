// API entry point: parse config once, serve, and drain on SIGTERM/SIGINT.
import { loadApiConfig, SECRET_SETTINGS } from "../infra/config.ts";
import { redactConfig } from "../infra/redact.ts";
import { createLogger } from "../infra/logger.ts";
import { runService } from "../infra/process.ts";
import { startApi } from "./host.ts";

const logger = createLogger("api");
await runService(logger, async () => {
  const config = loadApiConfig(process.env);
  logger.info({ config: redactConfig(config, SECRET_SETTINGS) }, "starting api");
  const api = await startApi(config, logger);
  logger.info({ url: api.url }, "api listening");
  return api;
});
