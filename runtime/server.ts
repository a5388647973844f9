// API entry point: parse config once, serve, and drain on SIGTERM/SIGINT.
import { loadApiConfig, redactConfig } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { runService } from "../core/process.ts";
import { startApi } from "./host.ts";

const logger = createLogger("api");
await runService(logger, async () => {
  const config = loadApiConfig(process.env);
  logger.info({ config: redactConfig(config) }, "starting api");
  const api = await startApi(config, logger);
  logger.info({ url: api.url }, "api listening");
  return api;
});
