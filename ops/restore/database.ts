import pg from "pg";
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { Logger } from "../../infra/logger.ts";
import { describeExit, exited, runTool, tailCollector } from "../shared/process.ts";
import { toolEnv, withDatabase } from "../shared/postgres.ts";
import type { DumpKind } from "./detect.ts";

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  // Maintenance connection: never the database being replaced.
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres"), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(url: string, name: string): Promise<boolean> {
  return withAdmin(
    url,
    async (c) => (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1,
  );
}

/** `<target>__<tag>_<UTC stamp>`, cut to PostgreSQL's 63-byte identifier limit. */
export function sideName(target: string, tag: "restore" | "old", at: Date): string {
  const suffix = `__${tag}_${at.toISOString().replace(/[-:]/g, "").slice(0, 15)}`;
  return target.slice(0, 63 - suffix.length) + suffix;
}

export async function createDatabaseLike(url: string, target: string, name: string): Promise<void> {
  await withAdmin(url, async (c) => {
    const owner = (
      await c.query<{ owner: string }>("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", [
        target,
      ])
    ).rows[0]?.owner;
    await c.query(`CREATE DATABASE ${ident(name)} TEMPLATE template0${owner ? ` OWNER ${ident(owner)}` : ""}`);
  });
}

export async function dropDatabase(url: string, name: string): Promise<void> {
  await withAdmin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
}

/**
 * Loads a dump into `database`, stopping at the first SQL error. custom: pg_restore --exit-on-error; plain:
 * psql with ON_ERROR_STOP. `singleTransaction` (in-place mode) makes it all or nothing.
 */
export async function loadDump(opts: {
  url: string;
  database: string;
  kind: Exclude<DumpKind, "sqlite">;
  path: string;
  singleTransaction: boolean;
  clean: boolean;
  /** Parallel jobs for a custom-format dump (default 1); ignored with a single transaction, which runs alone. */
  jobs?: number;
  pgRestoreBin: string;
  psqlBin: string;
  /** Aborting kills the load (the run gave up for another reason). */
  signal?: AbortSignal;
  log: Logger;
}): Promise<void> {
  const env = toolEnv(withDatabase(opts.url, opts.database));
  if (opts.kind === "custom") {
    const args = ["--exit-on-error", `--dbname=${opts.database}`];
    if (opts.singleTransaction) args.push("--single-transaction");
    else if ((opts.jobs ?? 1) > 1) args.push(`--jobs=${opts.jobs}`);
    if (opts.clean) args.push("--clean", "--if-exists");
    const r = await runTool(opts.pgRestoreBin, [...args, opts.path], { env, maxStdout: 65536, signal: opts.signal });
    if (r.code !== 0) throw new Error(describeExit("pg_restore", r, r.stderr));
    return;
  }
  const args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", `--dbname=${opts.database}`];
  if (opts.singleTransaction) args.push("--single-transaction");
  const child = spawn(opts.psqlBin, args, { env, stdio: ["pipe", "ignore", "pipe"], signal: opts.signal });
  const err = tailCollector();
  child.stderr.on("data", (c: Buffer) => err.push(c));
  const done = exited(child);
  await pipeline(createReadStream(opts.path, { highWaterMark: 1 << 20 }), child.stdin).catch(() => {
    /* psql stopped reading (ON_ERROR_STOP): its exit status says why */
  });
  const r = await done;
  if (r.code !== 0) throw new Error(describeExit("psql", r, err.text));
}

export async function analyze(url: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, database) });
  await client.connect();
  try {
    await client.query("ANALYZE");
  } finally {
    await client.end();
  }
}

/**
 * target → old, restored → target. Connections to both are refused and terminated first (a rename needs the
 * database to itself). The old database stays, connectable again, so a rollback is one rename.
 */
export async function swapDatabases(url: string, target: string, restored: string, old: string): Promise<void> {
  await withAdmin(url, async (c) => {
    await c.query(`ALTER DATABASE ${ident(target)} WITH ALLOW_CONNECTIONS false`);
    try {
      await c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()",
        [[target, restored]],
      );
      await c.query(`ALTER DATABASE ${ident(target)} RENAME TO ${ident(old)}`);
    } finally {
      const current = (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [old])).rowCount ? old : target;
      await c.query(`ALTER DATABASE ${ident(current)} WITH ALLOW_CONNECTIONS true`);
    }
    await c.query(`ALTER DATABASE ${ident(restored)} RENAME TO ${ident(target)}`);
  });
}

/** Undo of a swap interrupted half-way: the target name is free and the old database is still there. */
export async function renameDatabase(url: string, from: string, to: string): Promise<void> {
  await withAdmin(url, (c) => c.query(`ALTER DATABASE ${ident(from)} RENAME TO ${ident(to)}`));
}

/** Drops databases kept after a swap once they are older than `keepHours`. */
export async function dropExpiredOld(url: string, target: string, keepHours: number, log: Logger): Promise<string[]> {
  const prefix = sideName(target, "old", new Date(0)).replace(/\d{8}T\d{6}$/, "");
  const rows = await withAdmin(url, (c) =>
    c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]),
  );
  const dropped: string[] = [];
  for (const { datname } of rows.rows) {
    const m = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(datname);
    if (!m) continue;
    const at = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    if (Date.now() - at < keepHours * 3600_000) continue;
    await dropDatabase(url, datname);
    dropped.push(datname);
  }
  if (dropped.length) log.info({ dropped }, "dropped pre-restore databases past their keep time");
  return dropped;
}
