import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { waitUntil } from "../../support/wait.ts";
import { toolEnv } from "../../support/env.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

/** The real API (`node api/main.ts`) as its own process, so a test can kill it like a crashed container. */
export class ApiProcess {
  private proc: ChildProcess | null = null;
  private output = "";

  readonly port: number;
  private readonly env: Record<string, string>;

  constructor(port: number, env: Record<string, string>) {
    this.port = port;
    this.env = env;
  }

  async start(): Promise<void> {
    this.proc = spawn(process.execPath, [resolve(ROOT, "api/main.ts")], {
      cwd: ROOT,
      env: { ...toolEnv(), HOST: "127.0.0.1", PORT: String(this.port), ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc.stdout!.on("data", (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
    this.proc.stderr!.on("data", (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
    await waitUntil(
      "API /healthz",
      async () => {
        if (this.proc?.exitCode !== null) throw new Error(`API exited: ${this.output}`);
        return (await fetch(`http://127.0.0.1:${this.port}/healthz`)).status === 200;
      },
      20_000,
    );
  }

  get logs(): string {
    return this.output;
  }

  /** SIGKILL: no draining, connections cut, as when the container dies. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((ok) => {
      proc.once("exit", () => ok());
      proc.kill("SIGKILL");
    });
  }
}

/** Runs the migrations with the project's own CLI. */
export async function migrate(databaseUrl: string): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, "migrate/main.ts")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? ok() : fail(new Error(`migrations exited ${code}: ${out}`))));
  });
}
