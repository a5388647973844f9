// The start-up checks of the container entrypoint (main.ts runs them; healthcheck.ts reuses the waits): wait for
// PostgreSQL, create the application database when it is missing, wait for Redis, check the Docker socket. Each
// wait has a deadline; missing it fails with a message that says what and where. Self-contained on purpose (only
// `pg`, `ioredis`): it runs before, and independently of, the app's config.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";

type Env = Record<string, string | undefined>;

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  log?: (msg: string) => void;
}

/** A start-up condition that cannot be met; its message is the one line an operator needs. */
export class StartupError extends Error {
  override name = "StartupError";
}

/** NAME, or the trimmed content of the file NAME_FILE points to (the file wins, as in the app's config). */
export function readSetting(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new StartupError(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  }
  return env[name] || undefined;
}

/** `host:port/path` of a URL, without credentials: safe for messages. */
export function describeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.hostname}:${url.port || (url.protocol.startsWith("redis") ? "6379" : "5432")}${url.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = e?.message || String(err);
  return e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/**
 * Calls `attempt` until it resolves or the deadline passes. `fatal` picks errors that waiting cannot fix (a wrong
 * password): those stop at once. The error names `what` and `where` and carries the last reason.
 */
export async function waitFor(
  what: string,
  where: string,
  attempt: () => Promise<void>,
  opts: WaitOptions,
  fatal: (err: unknown) => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let tries = 0;
  for (;;) {
    tries += 1;
    try {
      await attempt();
      if (tries > 1) opts.log?.(`${what} at ${where} is reachable`);
      return;
    } catch (err) {
      if (fatal(err)) throw new StartupError(`${what} at ${where} refused the connection: ${reason(err)}`);
      if (Date.now() >= deadline)
        throw new StartupError(
          `${what} at ${where} not reachable within ${Math.round(opts.timeoutMs / 1000)} s (last error: ${reason(err)})`,
        );
      if (tries === 1) opts.log?.(`waiting for ${what} at ${where} (${reason(err)})`);
      await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))));
    }
  }
}

// Authentication and authorisation failures: waiting does not fix them.
const PG_FATAL = new Set(["28P01", "28000", "42501"]);
const pgFatal = (err: unknown) => PG_FATAL.has((err as { code?: string }).code ?? "");

async function pgQuery(url: string, sql: string, params: unknown[] = [], timeoutMs = 3000): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.query(sql, params);
  } finally {
    await client.end().catch(() => {});
  }
}

function withDatabase(raw: string, database: string): string {
  const url = new URL(raw);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function databaseName(raw: string): string {
  const name = decodeURIComponent(new URL(raw).pathname.replace(/^\//, ""));
  return name || new URL(raw).username || "postgres";
}

/**
 * Waits until the server behind `url` accepts a session. A server that answers "database does not exist" is up:
 * the result says so, and `ensureDatabase` creates it.
 */
export async function waitForPostgres(url: string, opts: WaitOptions): Promise<{ databaseExists: boolean }> {
  let databaseExists = true;
  await waitFor(
    "PostgreSQL",
    describeUrl(url),
    async () => {
      try {
        await pgQuery(url, "SELECT 1");
        databaseExists = true;
      } catch (err) {
        if ((err as { code?: string }).code !== "3D000") throw err;
        databaseExists = false;
      }
    },
    opts,
    pgFatal,
  );
  return { databaseExists };
}

/** Creates the database named in `url` when it does not exist (through the `postgres` maintenance database). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  const admin = withDatabase(url, name === "postgres" ? "template1" : "postgres");
  const found = await pgQuery(admin, "SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (found.rowCount) return false;
  try {
    await pgQuery(admin, `CREATE DATABASE "${name.replaceAll('"', '""')}"`, [], 30_000);
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "42P04" || code === "23505") return false; // created concurrently by another container
    if (code === "42501")
      throw new StartupError(
        `database "${name}" does not exist on ${describeUrl(url)} and this role may not create it: ` +
          `create it (CREATE DATABASE) or grant CREATEDB`,
      );
    throw new StartupError(`cannot create database "${name}" on ${describeUrl(url)}: ${reason(err)}`);
  }
}

const redisFatal = (err: unknown) => /NOAUTH|WRONGPASS|NOPERM|invalid password/i.test(reason(err));

/** Waits until Redis answers PING (a Redis still loading its AOF answers LOADING and is waited for). */
export async function waitForRedis(url: string, opts: WaitOptions): Promise<void> {
  await waitFor(
    "Redis",
    describeUrl(url),
    async () => {
      const redis = new Redis(url, {
        lazyConnect: true,
        connectTimeout: 3000,
        commandTimeout: 3000,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      redis.on("error", () => {});
      try {
        await redis.connect();
        const pong = await redis.ping();
        if (pong !== "PONG") throw new Error(`unexpected PING answer ${pong}`);
      } finally {
        redis.disconnect();
      }
    },
    opts,
    redisFatal,
  );
}

/** The Unix socket path of the Docker engine this process talks to, or null when DOCKER_HOST is not a socket. */
export function dockerSocketPath(env: Env): string | null {
  const host = env.DOCKER_HOST;
  if (!host) return "/var/run/docker.sock";
  return host.startsWith("unix://") ? host.slice("unix://".length) : null;
}

function dockerPing(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: "/_ping", method: "GET", timeout: 3000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`GET /_ping answered ${res.statusCode}`));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 3 s")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * The worker drives the engine through its socket: it must exist, be usable by this (non-root) user, and answer.
 * A permission problem is reported with the group id to add (DOCKER_GID in the compose files).
 */
export async function waitForDocker(env: Env, opts: WaitOptions): Promise<void> {
  const socketPath = dockerSocketPath(env);
  if (!socketPath) return; // tcp:// engines: the worker's own client reports problems
  await waitFor(
    "the Docker engine",
    socketPath,
    async () => {
      const st = statSync(socketPath);
      try {
        accessSync(socketPath, constants.R_OK | constants.W_OK);
      } catch {
        const uid = process.getuid?.() ?? -1;
        const groups = process.getgroups?.().join(",") ?? "?";
        throw Object.assign(
          new Error(
            `permission denied: the socket belongs to uid ${st.uid} gid ${st.gid} (mode ${(st.mode & 0o777).toString(8)}), ` +
              `this process is uid ${uid} with groups ${groups}; set DOCKER_GID=${st.gid}`,
          ),
          { code: "EACCES" },
        );
      }
      await dockerPing(socketPath);
    },
    opts,
    (err) => (err as { code?: string }).code === "EACCES",
  );
}

export interface PrepareSteps {
  postgres?: boolean;
  createDatabase?: boolean;
  redis?: boolean;
  docker?: boolean;
}

export async function prepare(env: Env, steps: PrepareSteps, log: (msg: string) => void): Promise<void> {
  const seconds = Number(env.WAIT_TIMEOUT_SECONDS ?? 60);
  if (!Number.isFinite(seconds) || seconds < 0) throw new StartupError("WAIT_TIMEOUT_SECONDS must be a number ≥ 0");
  const opts: WaitOptions = { timeoutMs: seconds * 1000, log };
  if (steps.postgres || steps.createDatabase) {
    const url = readSetting(env, "DATABASE_URL");
    if (!url) throw new StartupError("DATABASE_URL (or DATABASE_URL_FILE) is required");
    const { databaseExists } = await waitForPostgres(url, opts);
    if (!databaseExists) {
      if (!steps.createDatabase) throw new StartupError(`database "${databaseName(url)}" does not exist`);
      if (await ensureDatabase(url)) log(`created database "${databaseName(url)}" on ${describeUrl(url)}`);
    }
  }
  if (steps.redis) {
    const url = readSetting(env, "REDIS_URL");
    if (!url) throw new StartupError("REDIS_URL (or REDIS_URL_FILE) is required");
    await waitForRedis(url, opts);
  }
  if (steps.docker) await waitForDocker(env, opts);
}
