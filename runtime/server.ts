// API entry point: parse config once, serve, and drain on SIGTERM/SIGINT.
import { ConfigError, loadApiConfig, redactConfig } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { startApi } from "./host.ts";

const logger = createLogger("api");
try {
  const config = loadApiConfig(process.env);
  logger.info({ config: redactConfig(config) }, "starting api");
  const api = await startApi(config, logger);
  logger.info({ url: api.url }, "api listening");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    api.close().then(
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
  else logger.fatal({ err }, "api failed to start");
  process.exit(1);
}
