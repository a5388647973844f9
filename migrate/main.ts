// `npm run migrate`: applies pending migrations to DATABASE_URL under an advisory lock.
import { loadDatabaseUrl } from "../infra/config.ts";
import { createLogger } from "../infra/logger.ts";
import { migrateUp } from "../infra/migrate.ts";

const logger = createLogger("migrate");
try {
  const applied = await migrateUp(loadDatabaseUrl(process.env), logger);
  logger.info({ applied }, applied.length ? "migrations applied" : "schema up to date");
} catch (err) {
  logger.fatal({ err }, "migration failed");
  process.exitCode = 1;
}
