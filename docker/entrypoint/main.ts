// Start-up checks the container entrypoint (docker/entrypoint.sh) runs before it execs the API or the worker.
// Missing a deadline exits non-zero with a message that says what and where.
//
//   node docker/entrypoint/main.ts [--postgres] [--create-database] [--redis] [--docker]
//
// Environment: DATABASE_URL / REDIS_URL (or *_FILE), WAIT_TIMEOUT_SECONDS (default 60), DOCKER_HOST.
import { pino } from "pino";
import { prepare, StartupError, type PrepareSteps } from "./checks.ts";

const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: "entrypoint" },
  timestamp: pino.stdTimeFunctions.isoTime,
});
const args = new Set(process.argv.slice(2));
const steps: PrepareSteps = {
  postgres: args.has("--postgres"),
  createDatabase: args.has("--create-database"),
  redis: args.has("--redis"),
  docker: args.has("--docker"),
};
try {
  await prepare(process.env, steps, (msg) => logger.info(msg));
} catch (err) {
  if (err instanceof StartupError) logger.fatal(err.message);
  else logger.fatal({ err }, "start-up check failed");
  process.exit(1);
}
