import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { access, readdir } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join, resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupConfig } from "../../../ops/backup/config.ts";
import { loadBackupConfig } from "../../../ops/backup/config.ts";
import { runBackup } from "../../../ops/backup/run.ts";
import { createS3Store } from "../../../ops/backup/s3-store.ts";
import { startBackupService } from "../../../ops/backup/service.ts";
import { acquireLock } from "../../../ops/shared/lock.ts";
import { CHECK_NICENESS } from "../../../ops/shared/process.ts";
import { createLogger } from "../../../infra/logger.ts";
import { waitUntil } from "../../support/wait.ts";
import { tempDir, writeScript } from "../support/files.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { createScratchDb, pgBin, query, seed } from "../support/postgres.ts";

const CLI = resolve(import.meta.dirname, "../../../ops/backup/main.ts");
const log = createLogger("test-backup-stalls", "silent");
const cleanups: (() => Promise<unknown>)[] = [];
let source: ScratchDb;
let hung: { server: Server; sockets: Set<Socket>; endpoint: string };

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** An "S3 endpoint" that accepts connections and never answers a byte. */
async function startHungEndpoint() {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  return { server, sockets, endpoint: `http://127.0.0.1:${port}` };
}

async function config(extra: Record<string, string> = {}): Promise<BackupConfig> {
  const dir = await tempDir("backup-stalls");
  cleanups.push(dir.remove);
  return loadBackupConfig({
    DATABASE_URL: source.url,
    BACKUP_DIR: dir.path,
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    BACKUP_HEALTH_HOST: "127.0.0.1",
    BACKUP_HEALTH_PORT: "0",
    BACKUP_ON_START: "false",
    ...extra,
  });
}

function hungS3(c: BackupConfig, timeoutSeconds: number) {
  const store = createS3Store({
    bucket: "backups",
    prefix: "db/",
    endpoint: hung.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    accessKeyId: "x",
    secretAccessKey: "y",
    checksum: "when_supported",
    partSizeBytes: 5 * 1024 * 1024,
    queueSize: 2,
    timeoutMs: timeoutSeconds * 1000,
  });
  cleanups.push(async () => store.destroy());
  return { config: c, log, s3: store };
}

/** The next run can take the shared lock at once: nothing of the last one holds it. */
async function lockIsFree(c: BackupConfig): Promise<boolean> {
  if (await exists(c.BACKUP_LOCK_FILE)) return false;
  await (await acquireLock(c.BACKUP_LOCK_FILE, "next run")).release();
  return true;
}

beforeAll(async () => {
  source = await createScratchDb("ops_backup_stall");
  cleanups.push(source.drop);
  await seed(source.url, 50, 500);
  hung = await startHungEndpoint();
  cleanups.push(async () => {
    for (const s of hung.sockets) s.destroy();
    await new Promise((r) => hung.server.close(r));
  });
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("a backup never stalls, and never keeps the lock", () => {
  it("an S3 endpoint that never answers fails the upload after BACKUP_S3_TIMEOUT_SECONDS; the local backup stands", async () => {
    const c = await config({ BACKUP_S3_TIMEOUT_SECONDS: "1" });
    const t0 = Date.now();
    const outcome = await runBackup(hungS3(c, c.BACKUP_S3_TIMEOUT_SECONDS), "manual");
    expect(outcome.status).toBe("s3-failed");
    expect(outcome.artefact).toBeDefined();
    // Three attempts of at most ~1 s idle each, with the SDK's backoff: far from the minutes it hung before.
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await lockIsFree(c)).toBe(true);
  });

  it("a run past BACKUP_RUN_TIMEOUT_SECONDS is aborted, in S3 or in pg_dump, and says so", async () => {
    const c = await config({ BACKUP_RUN_TIMEOUT_SECONDS: "3" });
    const inS3 = await runBackup(hungS3(c, 600), "manual");
    expect(inS3.status).toBe("s3-failed");
    expect(inS3.error).toMatch(/exceeded BACKUP_RUN_TIMEOUT_SECONDS \(3 s\)/);
    expect(inS3.durationMs).toBeLessThan(20_000);
    expect(await lockIsFree(c)).toBe(true);

    const dir = (await tempDir("backup-hang")).path;
    cleanups.push(async () => (await import("node:fs/promises")).rm(dir, { recursive: true, force: true }));
    const hangingDump = await writeScript(
      join(dir, "pg_dump"),
      `case "$*" in *--version*) exec ${pgBin("pg_dump")} "$@";; esac\nexec sleep 3600`,
    );
    const d = await config({ BACKUP_RUN_TIMEOUT_SECONDS: "2", PG_DUMP_BIN: hangingDump });
    const inDump = await runBackup({ config: d, log }, "manual");
    expect(inDump.status).toBe("failed");
    expect(inDump.error).toMatch(/exceeded BACKUP_RUN_TIMEOUT_SECONDS \(2 s\)/);
    expect((await readdir(d.BACKUP_DIR)).filter((f) => !f.startsWith("."))).toEqual([]); // no partial left
    expect(await lockIsFree(d)).toBe(true);
  });

  it("the service counts the local backup as good while S3 still hangs, and its stop aborts the run", async () => {
    const c = await config();
    const service = await startBackupService(hungS3(c, 600));
    try {
      const run = service.trigger("manual")!;
      await waitUntil("the verified local backup to be recorded", () => service.state.lastGoodAt !== undefined, 30_000);
      expect(service.state.lastRun).toBeUndefined(); // the run is still in S3
      await service.stop();
      const outcome = await run;
      expect(outcome).toMatchObject({ status: "s3-failed", error: expect.stringMatching(/service stopped/) });
    } finally {
      await service.stop();
    }
    expect(await lockIsFree(c)).toBe(true);
  });

  it("a table lock held elsewhere fails the dump after BACKUP_LOCK_WAIT_TIMEOUT_SECONDS with a clear error", async () => {
    const c = await config({ BACKUP_LOCK_WAIT_TIMEOUT_SECONDS: "1" });
    const migration = new pg.Client({ connectionString: source.url });
    await migration.connect();
    try {
      await migration.query("BEGIN; LOCK TABLE solves IN ACCESS EXCLUSIVE MODE");
      const t0 = Date.now();
      const outcome = await runBackup({ config: c, log }, "manual");
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toMatch(/^a table lock was not granted within 1 s .*LOCK TABLE public\.solves/);
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      await migration.query("ROLLBACK").catch(() => {});
      await migration.end();
    }
    expect(await lockIsFree(c)).toBe(true);
  });

  it("a failure at every phase of a run leaves the lock free for the next run", async () => {
    const dir = (await tempDir("backup-phases")).path;
    cleanups.push(async () => (await import("node:fs/promises")).rm(dir, { recursive: true, force: true }));
    const real = pgBin("pg_dump");
    const tool = (name: string, body: string) => writeScript(join(dir, name), body);
    const phases: [string, Record<string, string>, RegExp][] = [
      [
        "version check",
        { PG_DUMP_BIN: await tool("old", 'echo "pg_dump: server version: 15.1; pg_dump version: 9.6.0" >&2; exit 1') },
        /is PostgreSQL 9\.6/,
      ],
      [
        "dump",
        {
          PG_DUMP_BIN: await tool("fails", `case "$*" in *--version*) exec ${real} "$@";; esac\necho boom >&2; exit 1`),
        },
        /pg_dump exited with code 1: boom/,
      ],
      ["verification", { PG_RESTORE_BIN: "/bin/false" }, /pg_restore/],
      ["size check", { BACKUP_MIN_SIZE_RATIO: "1" }, /less than 100% of the previous backup/],
    ];
    for (const [phase, extra, error] of phases) {
      const c = await config(extra);
      if (phase === "size check") {
        // A previous backup larger than any dump of this database.
        expect((await runBackup({ config: c, log }, "manual")).status).toBe("ok");
        await query(source.url, "DELETE FROM solves WHERE id % 2 = 0");
      }
      const outcome = await runBackup({ config: c, log }, "manual");
      expect(outcome.status, phase).toBe("failed");
      expect(outcome.error, phase).toMatch(error);
      expect(await lockIsFree(c), phase).toBe(true);
    }
  });

  it("after kill -9 of a run, the next run takes the dead run's lock at once instead of skipping", async () => {
    const c = await config();
    const dir = (await tempDir("backup-kill")).path;
    cleanups.push(async () => (await import("node:fs/promises")).rm(dir, { recursive: true, force: true }));
    const hangingDump = await writeScript(
      join(dir, "pg_dump"),
      `case "$*" in *--version*) exec ${pgBin("pg_dump")} "$@";; esac\nexec sleep 3600`,
    );
    const child = spawn(process.execPath, [CLI, "now"], {
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: source.url,
        BACKUP_DIR: c.BACKUP_DIR,
        PG_DUMP_BIN: hangingDump,
        PG_RESTORE_BIN: pgBin("pg_restore"),
        LOG_LEVEL: "silent",
      },
      detached: true,
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      await waitUntil("the run to hold the lock", () => exists(c.BACKUP_LOCK_FILE), 30_000);
      // The archive check runs below the dump's CPU priority, so it never slows the dump.
      const nice = await waitUntil(
        "pg_dump and its check to run",
        async () => {
          const found = Object.fromEntries(childrenOf(child.pid!).map((pid) => [commOf(pid), niceOf(pid)]));
          return "pg_restore" in found && "sleep" in found ? found : null;
        },
        30_000,
      );
      expect(nice).toEqual({ sleep: 0, pg_restore: CHECK_NICENESS });
    } finally {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    }
    expect(await exists(c.BACKUP_LOCK_FILE)).toBe(true); // fresh by its heartbeat, but its holder is gone
    const next = await runBackup({ config: c, log }, "manual");
    expect(next.status, next.error).toBe("ok");
    expect(await lockIsFree(c)).toBe(true);
  });
});

const childrenOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
const commOf = (pid: number) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();
/** The 19th field of /proc/PID/stat, counted after the command name (which may hold spaces). */
const niceOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
};
