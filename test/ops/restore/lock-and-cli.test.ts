import { spawn } from "node:child_process";
import { access, readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoverInterruptedRun } from "../../../ops/restore/recovery.ts";
import { restoreFile } from "../../../ops/restore/run.ts";
import { readState } from "../../../ops/restore/state.ts";
import { acquireLock } from "../../../ops/shared/lock.ts";
import { createLogger } from "../../../infra/logger.ts";
import { runToolOk } from "../../../ops/shared/process.ts";
import { toolEnv } from "../../support/env.ts";
import { waitUntil } from "../../support/wait.ts";
import { docker, startStandIns } from "../support/containers.ts";
import { tempDir } from "../support/files.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { createScratchDb, pgBin, query, seed } from "../support/postgres.ts";
import { dropFile, fileIdentity, hangingPgRestore, restoreConfig, restoreEnv } from "../support/restore.ts";

const CLI = resolve(import.meta.dirname, "../../../ops/restore/main.ts");
const log = createLogger("test-restore-lock", "silent");
const cleanups: (() => Promise<unknown>)[] = [];
let source: ScratchDb;
let target: ScratchDb;
let standIns: Awaited<ReturnType<typeof startStandIns>>;
let dump: string;

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The restore CLI as the image runs it (`restore ARGS`), to completion. */
async function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...toolEnv(), ...env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((ok) => child.on("close", ok));
  return { code, stdout, stderr };
}

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, sink) };
}

beforeAll(async () => {
  [source, target] = await Promise.all([createScratchDb("ops_rl_src"), createScratchDb("ops_rl_tgt")]);
  cleanups.push(source.drop, async () => {
    const rows = await query<{ datname: string }>(
      source.url,
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
      [target.name],
    );
    for (const r of rows) await query(source.url, `DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  });
  await Promise.all([seed(source.url, 20, 200), seed(target.url, 3, 3)]);
  standIns = await startStandIns("ops-restore-lock", ["web"]);
  cleanups.push(standIns.remove);
  const dir = await tempDir("restore-lock");
  cleanups.push(dir.remove);
  dump = join(dir.path, "src.dump");
  await runToolOk(pgBin("pg_dump"), ["-Fc", `--dbname=${source.url}`, "-f", dump]);
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("restore and the shared lock", () => {
  it("after kill -9 mid-restore, recovery releases the dead run's lock and the next file starts at once", async () => {
    const { watch, path } = await dropFile("crash.dump", dump, cleanups);
    const hang = await hangingPgRestore(watch);
    const env = restoreEnv(target.url, watch, standIns.names, { PG_RESTORE_BIN: hang });
    const cfg = restoreConfig(target.url, watch, standIns.names, { RESTORE_LOCK_WAIT_SECONDS: "3" });
    const child = spawn(process.execPath, [CLI, "restore", path], {
      env: { ...toolEnv(), ...env, LOG_LEVEL: "silent" },
      detached: true,
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      await waitUntil(
        "the journal to reach the restore step",
        async () => (await readState(cfg.RESTORE_STATE_FILE)).current?.phase === "restoring",
        30_000,
      );
      // pg_restore is loading (and hangs there): the side database exists, so recovery finds what it must drop.
      await waitUntil(
        "the side database",
        async () =>
          (await query(source.url, "SELECT 1 FROM pg_database WHERE datname LIKE $1", [`${target.name}\\_\\_restore%`]))
            .length > 0,
        30_000,
      );
    } finally {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    }
    // The dead run's heartbeat is seconds old: by age alone the lock would look held for two more minutes.
    expect(await readFile(cfg.RESTORE_LOCK_FILE, "utf8")).toMatch(/^restore \S+ pid \d+ /);

    const recovered = await recoverInterruptedRun(cfg, docker, log);
    expect(recovered).toMatchObject({ status: "failed", file: "crash.dump" });
    expect(await exists(cfg.RESTORE_LOCK_FILE)).toBe(false);
    const failed = await readdir(join(watch, "failed"));
    const resultFile = failed.find((f) => f.endsWith(".result.json"))!;
    expect(JSON.parse(await readFile(join(watch, "failed", resultFile), "utf8"))).toMatchObject({ file: "crash.dump" });

    const next = await dropFile("next.dump", dump, cleanups);
    const t0 = Date.now();
    const result = await restoreFile(
      { config: { ...cfg, RESTORE_WATCH_DIR: next.watch }, docker, log },
      next.path,
      await fileIdentity(next.path),
    );
    expect(result.status, result.error).toBe("ok");
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it("a lock left by a process that died is taken at once; a live holder is waited for, and the wait is logged", async () => {
    const dir = (await tempDir("restore-lock-holder")).path;
    cleanups.push(() => runToolOk("rm", ["-rf", dir]));
    const file = join(dir, ".ops.lock");
    // A holder on this host whose process is gone (it exited), with a fresh heartbeat.
    await runToolOk(process.execPath, [
      "--input-type=module",
      "-e",
      `import { acquireLock } from ${JSON.stringify(resolve(import.meta.dirname, "../../../ops/shared/lock.ts"))};` +
        `await acquireLock(${JSON.stringify(file)}, "backup dead"); process.exit(0);`,
    ]);
    expect(await readFile(file, "utf8")).toMatch(/^backup dead pid/);
    const taken = await acquireLock(file, "backup next");
    expect(await readFile(file, "utf8")).toMatch(/^backup next pid/);

    // Held by a live run: a restore waits for it and says so.
    const { watch, path } = await dropFile("waits.dump", dump, cleanups);
    const cfg = restoreConfig(target.url, watch, standIns.names, {
      RESTORE_LOCK_FILE: file,
      RESTORE_DRY_RUN: "true",
    });
    const { lines, logger } = capturingLogger();
    const running = restoreFile({ config: cfg, docker, log: logger }, path, await fileIdentity(path));
    await waitUntil("the wait to be logged", () => lines.some((l) => l.msg === "waiting for the ops lock"), 10_000);
    expect(lines.find((l) => l.msg === "waiting for the ops lock")).toMatchObject({
      holder: expect.stringMatching(/^backup next pid/),
    });
    await taken.release();
    expect((await running).status).toBe("dry-run");
    expect(await exists(file)).toBe(false);
  });

  it("`restore FILE` whose wait for a held lock runs out exits 3 saying so, with no stack trace, and leaves the file", async () => {
    const { watch, path } = await dropFile("held.dump", dump, cleanups);
    const file = join(watch, ".ops.lock");
    const held = await acquireLock(file, "backup running");
    try {
      const env = restoreEnv(target.url, watch, standIns.names, { RESTORE_LOCK_WAIT_SECONDS: "1" });
      const r = await cli(["restore", path], env);
      expect(r.code).toBe(3);
      expect(r.stdout + r.stderr).toContain("the ops lock is still held");
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
      expect(await exists(path)).toBe(true);
    } finally {
      await held.release();
    }
  });

  it("RESTORE_STATE_FILE in a directory that does not exist: the restore works and the lock is released", async () => {
    const { watch, path } = await dropFile("state-dir.dump", dump, cleanups);
    const cfg = restoreConfig(target.url, watch, standIns.names, {
      RESTORE_STATE_FILE: join(watch, "no", "such", "dir", "state.json"),
    });
    const result = await restoreFile({ config: cfg, docker, log }, path, await fileIdentity(path));
    expect(result.status, result.error).toBe("ok");
    expect((await readState(cfg.RESTORE_STATE_FILE)).processed).toMatchObject([{ file: "state-dir.dump" }]);
    expect(await exists(cfg.RESTORE_LOCK_FILE)).toBe(false);
    expect(await readdir(join(watch, "incoming"))).toEqual([]);
  });

  it("no error path leaves the lock held: a failure at every step boundary, and the next run starts at once", async () => {
    const boundaries = [
      "validate",
      "read data",
      "pre-restore backup",
      "stop containers",
      "create database",
      "restore",
      "swap",
    ];
    for (const boundary of boundaries) {
      const { watch, path } = await dropFile(`fail-${boundary.replace(/ /g, "-")}.dump`, dump, cleanups);
      const cfg = restoreConfig(target.url, watch, standIns.names, { RESTORE_LOCK_WAIT_SECONDS: "0" });
      const result = await restoreFile(
        {
          config: cfg,
          docker,
          log,
          onStep: (s) => {
            if (s === boundary) throw new Error(`injected after ${s}`);
          },
        },
        path,
        await fileIdentity(path),
      );
      expect(result.status, boundary).toBe("failed");
      expect(result.error, boundary).toBe(`injected after ${boundary}`);
      expect(await exists(cfg.RESTORE_LOCK_FILE), boundary).toBe(false);
      expect(await standIns.running(), boundary).toEqual({ [standIns.names[0]!]: true });
      await (await acquireLock(cfg.RESTORE_LOCK_FILE, "next run")).release();
    }
    // The state file cannot be written at all (its path is a directory): the run fails, the lock still goes.
    const { watch, path } = await dropFile("state-unwritable.dump", dump, cleanups);
    const cfg = restoreConfig(target.url, watch, standIns.names, { RESTORE_STATE_FILE: join(watch, "incoming") });
    const result = await restoreFile({ config: cfg, docker, log }, path, await fileIdentity(path));
    expect(result.status).toBe("failed");
    expect(await exists(cfg.RESTORE_LOCK_FILE)).toBe(false);
    expect(await standIns.running()).toEqual({ [standIns.names[0]!]: true });
  });

  it("a file taken by another run while this one waited for the lock is skipped, with no result", async () => {
    const { watch, path } = await dropFile("taken.dump", dump, cleanups);
    const cfg = restoreConfig(target.url, watch, standIns.names);
    const held = await acquireLock(cfg.RESTORE_LOCK_FILE, "restore other");
    const running = restoreFile({ config: cfg, docker, log }, path, await fileIdentity(path));
    await runToolOk("mv", [path, join(watch, "elsewhere.dump")]);
    await held.release();
    expect(await running).toMatchObject({ status: "skipped" });
    expect(await exists(join(watch, "processed"))).toBe(false);
    expect(await exists(join(watch, "failed"))).toBe(false);
  });
});

describe("the one-shot command", () => {
  it("`restore FILE --dry-run` checks the file and leaves it where it is; `restore FILE` restores it", async () => {
    const { watch, path } = await dropFile("oneshot.dump", dump, cleanups);
    const env = restoreEnv(target.url, watch, standIns.names);
    const dry = await cli([path, "--dry-run"], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ status: "dry-run", file: "oneshot.dump" });
    expect(await readdir(join(watch, "incoming"))).toEqual(["oneshot.dump"]);
    expect(await standIns.running()).toEqual({ [standIns.names[0]!]: true });

    const real = await cli([path], env);
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ status: "ok", file: "oneshot.dump" });
    expect(await readdir(join(watch, "incoming"))).toEqual([]);
    expect((await readdir(join(watch, "processed"))).some((f) => f.endsWith("-oneshot.dump"))).toBe(true);
    expect(await stat(join(watch, ".ops.lock")).catch(() => null)).toBeNull();

    const usage = await cli(["restore", "--bogus"], env);
    expect(usage.code).toBe(64);
    expect(usage.stdout + usage.stderr).toMatch(/usage: restore FILE \[--dry-run\]/);
  });
});
