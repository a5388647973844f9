import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import pg from "pg";
import { withDatabase } from "../../../ops/shared/postgres.ts";

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_DATABASE_URL is not set: source scripts/test-services.sh or run `npm test`");
  return url;
}

/** Newest installed PostgreSQL binary directory (Debian layout), so tests never depend on pg_wrapper's choice. */
export function pgBin(tool: string): string {
  const versions = readdirSync("/usr/lib/postgresql")
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest ? `/usr/lib/postgresql/${newest}/bin/${tool}` : tool;
}

export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export interface ScratchDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** An empty database with a unique name, dropped (with its sessions) by `drop`. */
export async function createScratchDb(prefix: string): Promise<ScratchDb> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await query(adminUrl(), `CREATE DATABASE ${name}`);
  return {
    name,
    url: withDatabase(adminUrl(), name),
    drop: () => query(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {}),
  };
}

/** A small but real schema: two tables, a foreign key, an index, incompressible text. */
export async function seed(url: string, teams = 300, solves = 3000): Promise<void> {
  await query(
    url,
    `CREATE TABLE teams (id int PRIMARY KEY, name text NOT NULL UNIQUE);
     CREATE TABLE solves (id bigserial PRIMARY KEY, team_id int NOT NULL REFERENCES teams(id), flag text NOT NULL,
                          solved_at timestamptz NOT NULL DEFAULT now());
     CREATE INDEX solves_team ON solves (team_id);
     INSERT INTO teams SELECT i, 'team-' || i FROM generate_series(1, ${teams}) i;
     INSERT INTO solves (team_id, flag) SELECT 1 + (i % ${teams}), md5(random()::text) || md5(i::text)
       FROM generate_series(1, ${solves}) i;`,
  );
}

export async function rowCounts(url: string): Promise<Record<string, number>> {
  const tables = await query<{ relname: string }>(
    url,
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public' ORDER BY relname",
  );
  const out: Record<string, number> = {};
  for (const { relname } of tables)
    out[relname] = Number((await query<{ n: string }>(url, `SELECT count(*) AS n FROM "${relname}"`))[0]!.n);
  return out;
}
