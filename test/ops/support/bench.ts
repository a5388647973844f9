import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import pg from "pg";

export const MB = 1024 * 1024;

/** A database of about `mb` MB of table data, filled server-side with generate_series (no client round trips). */
export async function generateDatabase(adminUrl: string, name: string, mb: number): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  await db.query(
    "CREATE TABLE events (id bigserial PRIMARY KEY, team int, payload text, at timestamptz DEFAULT now())",
  );
  // ~250 bytes a row, half of it random (compresses like real data would, roughly 2:1)
  const rowsPerBatch = 200_000;
  for (;;) {
    const { rows } = await db.query<{ size: string }>("SELECT pg_database_size(current_database()) AS size");
    if (Number(rows[0]!.size) >= mb * MB) break;
    await db.query(
      `INSERT INTO events (team, payload)
       SELECT i % 500, md5(random()::text) || md5(random()::text) || repeat('flag{' || (i % 977) || '}', 12)
       FROM generate_series(1, ${rowsPerBatch}) i`,
    );
  }
  await db.query("CREATE INDEX events_team ON events (team)");
  await db.end();
  return url.toString();
}

/**
 * A child's exit code and peak resident set size in MB: VmHWM, the kernel's own high-water mark, read every
 * `everyMs` until the process is gone (it only grows, so the last reading is the peak).
 */
export async function peakRss(child: ChildProcess, everyMs: number): Promise<{ code: number | null; peakMb: number }> {
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      /* exited */
    }
  }, everyMs);
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  clearInterval(timer);
  return { code, peakMb: peakKb / 1024 };
}

/** Runs a command, returning wall time and its peak resident set size (sampled every 20 ms). */
export async function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const started = performance.now();
  const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "inherit"] });
  const { code, peakMb } = await peakRss(child, 20);
  return { ms: performance.now() - started, peakMb, code };
}

export const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
