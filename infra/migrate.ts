import { fileURLToPath } from "node:url";
import pg from "pg";
import { runner } from "node-pg-migrate";
import type { Logger } from "./logger.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
// Any fixed 64-bit key; every migrating process queues behind the same one.
const MIGRATION_LOCK_KEY = 7_231_004_417n;

/** Applies pending migrations while holding a blocking advisory lock, so concurrent starts run them once. */
export async function migrateUp(databaseUrl: string, logger: Logger): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "pgmigrations",
      count: Infinity,
      noLock: true,
      // Dotfiles (the default) and the source maps a build writes beside compiled migrations are not migrations.
      ignorePattern: "\\..*|.*\\.map",
      log: (msg: string) => logger.debug({ migration: msg }, "migration"),
    });
    return applied.map((m) => m.name);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()]).catch(() => {});
    await client.end();
  }
}
