import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrateUp } from "../../infra/migrate.ts";
import { createLogger } from "../../infra/logger.ts";
import { testEnv } from "./env.ts";

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database for one test file, dropped (with its sessions) afterwards. */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(testEnv.databaseUrl);
  url.pathname = `/${name}`;
  await migrateUp(url.toString(), createLogger("test-migrate", "silent"));
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
