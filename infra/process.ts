import { ConfigError } from "./env.ts";
import type { Logger } from "./logger.ts";

/**
 * Runs a service entry point: starts it, and on SIGTERM/SIGINT drains it once and exits 0 (1 when draining
 * fails). A start-up failure exits 1, with just the message for a bad configuration.
 */
export async function runService(logger: Logger, start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  try {
    const service = await start();
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "draining");
      service.close().then(
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
    else logger.fatal({ err }, "failed to start");
    process.exit(1);
  }
}
