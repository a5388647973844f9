import { runTool } from "./process.ts";

/** The client tools are older than the server, or their version cannot be read: a dump would be unsafe. */
export class VersionError extends Error {
  override name = "VersionError";
}

export interface PgVersion {
  /** server_version_num style: 150018, 90624 */
  num: number;
  text: string;
}

/** A major version key that orders 9.6 < 10 < 15 < 18 (majors before 10 have two parts). */
export function majorOf(num: number): number {
  return num >= 100_000 ? Math.floor(num / 10_000) : Math.floor(num / 100) / 100;
}

export function majorText(num: number): string {
  return num >= 100_000
    ? String(Math.floor(num / 10_000))
    : `${Math.floor(num / 10_000)}.${Math.floor(num / 100) % 100}`;
}

/** Parses `pg_dump (PostgreSQL) 15.18 (Debian ...)` or `... 9.6.24` into a server_version_num-style number. */
export function parseToolVersion(output: string): PgVersion {
  const m = /\(PostgreSQL\)\s+(\d[^\s]*)/.exec(output);
  if (!m)
    throw new VersionError(`cannot read a PostgreSQL version from ${JSON.stringify(output.trim().slice(0, 200))}`);
  return parseVersionText(m[1]!);
}

/** `15.18 (Debian 15.18-1.pgdg120+1)`, `9.6.24`, `18beta1`: a version as the server reports it (server_version). */
export function parseVersionText(text: string): PgVersion {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  if (!m) throw new VersionError(`cannot read a PostgreSQL version from ${JSON.stringify(text.trim().slice(0, 200))}`);
  const [a, b, c] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  const num = a >= 10 ? a * 10_000 + b : a * 10_000 + b * 100 + c;
  return { num, text: text.trim() };
}

export async function toolVersion(bin: string): Promise<PgVersion> {
  const r = await runTool(bin, ["--version"]).catch((err: Error) => {
    throw new VersionError(`cannot run ${bin} --version: ${err.message}`);
  });
  if (r.code !== 0) throw new VersionError(`${bin} --version exited with ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return parseToolVersion(r.stdout);
}

export async function serverVersion(databaseUrl: string): Promise<PgVersion> {
  // Loaded here only: a backup takes the versions from its dump and does without the driver (~1.5 MB resident).
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ num: string; text: string }>(
      "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS text",
    );
    return { num: Number(rows[0]!.num), text: rows[0]!.text };
  } finally {
    await client.end();
  }
}

/**
 * pg_dump reads servers of its own major and older only, and refuses any other before writing a byte ("server
 * version: 18.1 (...); pg_dump version: 15.18 (...)"): that refusal, said in terms of what to install.
 */
export function describeVersionMismatch(stderr: string, bin: string): string | undefined {
  const m = /server version: ([^;\n]+); pg_dump version: ([^\n]+)/.exec(stderr);
  if (!m) return undefined;
  const [server, client] = [parseVersionText(m[1]!), parseVersionText(m[2]!)];
  return (
    `${bin} is PostgreSQL ${majorText(client.num)} (${client.text}) but the server is ${majorText(server.num)} ` +
    `(${server.text}): install a client of major ${majorText(server.num)} or newer`
  );
}

/**
 * libpq environment for a child tool: the password travels in PGPASSWORD, never on a command line that
 * `ps` would show.
 */
export function libpqEnv(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = {};
  const host = url.searchParams.get("host") ?? decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ""));
  if (host) env.PGHOST = host;
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const db = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (db) env.PGDATABASE = db;
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

export function databaseName(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username) || "postgres";
}

/** The same server, another database. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Child environment: the service's own PG* variables never leak into a tool aimed elsewhere. */
export function toolEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
  return { ...base, ...libpqEnv(databaseUrl) };
}
