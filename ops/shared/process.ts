import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { setPriority } from "node:os";

/** The niceness of a backup's checking processes (the dump itself keeps the default, 0). */
export const CHECK_NICENESS = 10;

/**
 * Runs a checking process below the dump's CPU priority: on a machine whose cores pg_dump and the server fill, the
 * check takes what they leave and catches up when they wait, instead of slowing the dump (plain, 1 GB: 1.14× raw
 * pg_dump at the same priority, 1.11× below it; custom 1.09 and 1.07).
 */
export function belowDumpPriority(child: ChildProcess): void {
  try {
    if (child.pid) setPriority(child.pid, CHECK_NICENESS);
  } catch {
    // It has exited already: its exit code tells the check what happened.
  }
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Keeps the last `limit` characters of a stream: enough for an error message, never the whole output. */
export function tailCollector(limit = 8192) {
  let text = "";
  return {
    push(chunk: Buffer | string) {
      text = (text + chunk.toString()).slice(-limit);
    },
    get text() {
      return text;
    },
  };
}

/**
 * Resolves when the child exits, with its exit code or signal; rejects if it could not be started. Marked as
 * handled up front: a caller that gave up on the child for another reason must not crash the process.
 */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  done.catch(() => {});
  return done;
}

export function describeExit(name: string, r: { code: number | null; signal: NodeJS.Signals | null }, stderr = "") {
  const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
  const detail = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-5).join(" | ")}` : "";
  return `${name} ${how}${detail}`;
}

/**
 * Runs a tool to completion, keeping bounded stdout (up to `maxStdout`) and the tail of stderr. An aborted `signal`
 * kills it (SIGTERM) and the call rejects with an AbortError.
 */
export async function runTool(
  bin: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; maxStdout?: number; input?: string; signal?: AbortSignal } = {},
): Promise<ToolResult> {
  const child = spawn(bin, args, {
    env: opts.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
    signal: opts.signal,
  });
  const out = tailCollector(opts.maxStdout ?? 1 << 20);
  const err = tailCollector();
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  child.stdin.on("error", () => {}); // a tool that exits early closes its stdin
  child.stdin.end(opts.input ?? "");
  const r = await exited(child);
  return { ...r, stdout: out.text, stderr: err.text };
}

/** Runs a tool and throws with its stderr unless it exits 0. */
export async function runToolOk(bin: string, args: string[], opts: Parameters<typeof runTool>[2] = {}) {
  const r = await runTool(bin, args, opts);
  if (r.code !== 0) throw new Error(describeExit(bin, r, r.stderr));
  return r;
}
