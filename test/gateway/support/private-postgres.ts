import { execFile, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { chown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./gateway.ts";

const run = promisify(execFile);

function pgBin(): string {
  const versions = readdirSync("/usr/lib/postgresql")
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(a) - Number(b));
  if (!versions.length) throw new Error("no PostgreSQL under /usr/lib/postgresql: run the suite with `npm test`");
  return `/usr/lib/postgresql/${versions.at(-1)}/bin`;
}

/**
 * A PostgreSQL cluster of this test's own on a loopback port, which the test may stop ("database down") and
 * start again. Run as the postgres user when the tests run as root (PostgreSQL refuses root).
 */
export class PrivatePostgres {
  port = 0;
  private data = "";
  private owner: { uid: number; gid: number } | undefined;

  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    this.data = join(this.dir, "pgdata");
    await mkdir(this.data, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
      const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
      this.owner = { uid, gid };
      await chown(this.data, uid, gid);
    }
    await this.pg("initdb", ["-D", this.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${this.data}' -c fsync=off`;
    await this.pg("pg_ctl", [
      "-D",
      this.data,
      "-l",
      join(this.data, "server.log"),
      "-w",
      "-t",
      "30",
      "-o",
      opts,
      "start",
    ]);
  }

  /** Fast shutdown: sessions are cut, as when the database host goes away. */
  async stop(): Promise<void> {
    if (!this.data) return;
    await this.pg("pg_ctl", ["-D", this.data, "-w", "-t", "30", "-m", "fast", "stop"]).catch(() => {});
  }

  private pg(tool: string, args: string[]): Promise<void> {
    return new Promise((ok, fail) => {
      const child = spawn(join(pgBin(), tool), args, {
        ...this.owner,
        cwd: this.dir,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", fail);
      child.on("close", (code) => (code === 0 ? ok() : fail(new Error(`${tool} exited ${code}: ${stderr}`))));
    });
  }
}
