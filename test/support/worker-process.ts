import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { toolEnv } from "./env.ts";

const WORKER_MAIN = fileURLToPath(new URL("../../worker/main.ts", import.meta.url));

/** The real worker entry point in a child process, so a test can kill it with SIGKILL like a crash would. */
export class WorkerProcess {
  private proc: ChildProcess;
  readonly output: string[] = [];

  constructor(env: Record<string, string>) {
    this.proc = spawn(process.execPath, [WORKER_MAIN], {
      env: { ...toolEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc.stdout!.on("data", (c: Buffer) => this.output.push(c.toString()));
    this.proc.stderr!.on("data", (c: Buffer) => this.output.push(c.toString()));
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.proc.once("exit", () => resolve());
      this.proc.kill(signal);
    });
  }
}
