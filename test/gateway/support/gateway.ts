import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitUntil } from "../../support/wait.ts";

export const GATEWAY_DIR = resolve(import.meta.dirname, "../../../gateway");
// Debian's nginx lives in /usr/sbin, which a non-root PATH may lack.
const NGINX = process.env.NGINX_BIN ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx");

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
    srv.on("error", fail);
  });
}

/** A world-readable temporary directory: nginx workers run unprivileged and must read what the tests put there. */
export async function openTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/**
 * Only what the renderer needs: the test process's own GATEWAY_ and CERTBOT_ variables must never leak in.
 * Running as root (CI), workers drop to nobody.
 */
function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    GATEWAY_WORKER_USER: process.getuid?.() === 0 ? "nobody nogroup" : "",
    GATEWAY_WORKER_PROCESSES: "1",
    // Loopback only: a host-name upstream would be resolved here, never by the machine's resolvers.
    GATEWAY_RESOLVER: "127.0.0.1",
  };
}

/**
 * A PATH holding only busybox applets: the toolset of the nginx:alpine image the gateway runs in, so the renderer
 * is checked against busybox's sh, awk and grep and not only Debian's dash and mawk.
 */
export async function busyboxPath(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const applet of ["sh", "awk", "grep", "tr", "mkdir", "chmod", "mv", "rm", "cat", "dirname", "cksum", "sleep"])
    await symlink("/bin/busybox", join(dir, applet));
  return dir;
}

export interface RenderResult {
  code: number;
  stderr: string;
}

/** Runs gateway/render.sh with exactly `env` (plus the test defaults) into `outDir`. */
export async function render(env: Record<string, string>, outDir: string, shell = "sh"): Promise<RenderResult> {
  const child = spawn(shell, [join(GATEWAY_DIR, "render.sh"), outDir], {
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((ok) => child.on("close", (c) => ok(c ?? -1)));
  return { code, stderr };
}

/** `nginx -t` on a rendered configuration; returns nginx's verdict. */
export async function nginxTest(prefix: string, conf: string): Promise<RenderResult> {
  const child = spawn(NGINX, ["-t", "-p", prefix, "-c", conf, "-e", "stderr"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((ok) => child.on("close", (c) => ok(c ?? -1)));
  return { code, stderr };
}

export interface GatewayOptions {
  upstreamPort: number;
  env?: Record<string, string>;
  /** Listen on a TLS port too (certbot option). */
  tls?: boolean;
}

/**
 * The real gateway entrypoint and Debian's nginx on loopback ports, in a directory of its own.
 * The process group is killed on stop, so the certificate watcher goes with nginx.
 */
export class TestGateway {
  dir = "";
  flagDir = "";
  httpPort = 0;
  tlsPort = 0;
  private proc: ChildProcess | null = null;
  private stderr = "";

  static async start(opts: GatewayOptions): Promise<TestGateway> {
    const gw = new TestGateway();
    try {
      await gw.boot(opts);
    } catch (err) {
      await gw.stop();
      throw err;
    }
    return gw;
  }

  private async boot(opts: GatewayOptions): Promise<void> {
    this.dir = await openTempDir("gw-");
    this.flagDir = join(this.dir, "flags");
    await mkdir(this.flagDir, { mode: 0o755 });
    this.httpPort = await freePort();
    if (opts.tls) this.tlsPort = await freePort();
    const renderDir = join(this.dir, "render");
    const env = {
      ...baseEnv(),
      GATEWAY_RENDER_DIR: renderDir,
      GATEWAY_UPSTREAM: `127.0.0.1:${opts.upstreamPort}`,
      GATEWAY_LISTEN: `127.0.0.1:${this.httpPort}`,
      // The public HTTPS port redirects point to: here, the port nginx really listens on.
      ...(this.tlsPort
        ? { GATEWAY_TLS_LISTEN: `127.0.0.1:${this.tlsPort}`, GATEWAY_PUBLIC_HTTPS_PORT: String(this.tlsPort) }
        : {}),
      GATEWAY_FLAG_DIR: this.flagDir,
      GATEWAY_ACCESS_LOG: "off",
      ...opts.env,
    };
    const args = [join(GATEWAY_DIR, "entrypoint.sh"), NGINX, "-p", this.dir, "-c", join(renderDir, "nginx.conf")];
    this.proc = spawn("sh", [...args, "-e", "stderr", "-g", "daemon off;"], {
      env,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    await waitUntil(
      "gateway health",
      async () => {
        if (this.proc?.exitCode !== null) throw new Error(`gateway exited: ${this.stderr}`);
        return (await fetch(this.url("/gateway/healthz"))).status === 200;
      },
      10_000,
    );
  }

  /** The nginx master's pid: the entrypoint execs nginx, so it is the spawned process. */
  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  get logs(): string {
    return this.stderr;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.httpPort}${path}`;
  }

  async setMaintenanceFlag(on: boolean): Promise<void> {
    const file = join(this.flagDir, "maintenance.on");
    if (on) await writeFile(file, "restore in progress\n", { mode: 0o644 });
    else await rm(file, { force: true });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc?.pid && proc.exitCode === null) {
      const exited = new Promise<void>((ok) => proc.once("exit", () => ok()));
      signalGroup(proc.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(proc.pid!, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    // The watcher's `sleep` may outlive the master by a moment; the group signal covers it.
    if (proc?.pid) signalGroup(proc.pid, "SIGKILL");
    this.proc = null;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}
