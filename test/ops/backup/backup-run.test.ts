import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupConfig } from "../../../ops/backup/config.ts";
import { loadBackupConfig } from "../../../ops/backup/config.ts";
import { createBackupMetrics } from "../../../ops/backup/metrics.ts";
import { createNotifier } from "../../../ops/backup/notify.ts";
import { runBackup } from "../../../ops/backup/run.ts";
import { startBackupService } from "../../../ops/backup/service.ts";
import { acquireLock } from "../../../ops/shared/lock.ts";
import { createLogger } from "../../../infra/logger.ts";
import { parseManifest } from "../../../ops/shared/manifest.ts";
import { runToolOk } from "../../../ops/shared/process.ts";
import { sha256File } from "../../../ops/shared/files.ts";
import { tempDir, writeScript } from "../support/files.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { createScratchDb, pgBin, query, rowCounts, seed } from "../support/postgres.ts";
import { waitUntil } from "../../support/wait.ts";

const log = createLogger("test-backup", "silent");
let source: ScratchDb;
const cleanups: (() => Promise<unknown>)[] = [];

function config(dir: string, extra: Record<string, string> = {}): BackupConfig {
  return loadBackupConfig({
    DATABASE_URL: source.url,
    BACKUP_DIR: dir,
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    BACKUP_HEALTH_HOST: "127.0.0.1",
    BACKUP_HEALTH_PORT: "0",
    BACKUP_ON_START: "false",
    ...extra,
  });
}

async function newDir() {
  const dir = await tempDir("backup-run");
  cleanups.push(dir.remove);
  return dir.path;
}

/** A pg_dump beside `dir` that answers --version as the real one, otherwise runs `body` and exits 0 whatever. */
async function fakePgDump(dir: string, name: string, body: string): Promise<string> {
  const fake = await writeScript(
    join(dir, "..", `${dir.split("/").pop()}-${name}`),
    `[ "$1" = --version ] && exec ${pgBin("pg_dump")} --version\n${body}\nexit 0`,
  );
  cleanups.push(() => rm(fake, { force: true }));
  return fake;
}

/** A backup with that pg_dump fails verification with `error`, and leaves nothing in `dir`. */
async function expectVerificationFails(dir: string, fake: string, format: string, error: RegExp): Promise<void> {
  const outcome = await runBackup({ config: config(dir, { PG_DUMP_BIN: fake, BACKUP_FORMAT: format }), log }, "manual");
  expect(outcome.status).toBe("failed");
  expect(outcome.error).toMatch(error);
  expect(await readdir(dir)).toEqual([]);
}

beforeAll(async () => {
  source = await createScratchDb("ops_backup_src");
  cleanups.push(source.drop);
  await seed(source.url);
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("backup runs", () => {
  it("a scheduled run writes a verified artefact that restores with identical row counts", async () => {
    const dir = await newDir();
    const runs: string[] = [];
    const service = await startBackupService({
      config: config(dir, { BACKUP_SCHEDULE: "* * * * * *" }),
      log,
      metrics: createBackupMetrics(),
      onRun: (o) => runs.push(o.status + (o.error ?? "")),
    });
    try {
      await waitUntil("a scheduled run", () => runs.length > 0, 30_000);
    } finally {
      await service.stop();
    }
    expect(runs[0]).toBe("ok");
    const files = (await readdir(dir)).filter((f) => !f.startsWith("."));
    const dump = files.find((f) => f.endsWith(".dump"))!;
    expect(dump).toMatch(new RegExp(`^${source.name}-\\d{8}T\\d{6}\\.\\d{3}Z\\.dump$`));
    const manifest = parseManifest(await readFile(join(dir, dump + ".manifest.json"), "utf8"))!;
    expect(manifest).toMatchObject({ database: source.name, format: "custom", file: dump, verified: true });
    expect(manifest.serverVersion.num).toBeGreaterThan(100000);
    expect(manifest.clientVersion.num).toBeGreaterThanOrEqual(manifest.serverVersion.num);
    const onDisk = await sha256File(join(dir, dump));
    expect(onDisk).toEqual({ sha256: manifest.sha256, size: manifest.sizeBytes });
    expect(manifest.verification.join(" ")).toMatch(/decoded by pg_restore.*pg_restore --list/);

    const scratch = await createScratchDb("ops_backup_chk");
    cleanups.push(scratch.drop);
    await runToolOk(pgBin("pg_restore"), ["--exit-on-error", "--no-owner", `--dbname=${scratch.url}`, join(dir, dump)]);
    expect(await rowCounts(scratch.url)).toEqual(await rowCounts(source.url));
    expect(await rowCounts(scratch.url)).toMatchObject({ teams: 300, solves: 3000 });
  });

  it("plain format writes a gzipped SQL file with its trailer that psql restores", async () => {
    const dir = await newDir();
    const outcome = await runBackup({ config: config(dir, { BACKUP_FORMAT: "plain" }), log }, "manual");
    expect(outcome.status).toBe("ok");
    expect(outcome.artefact!.file).toMatch(/\.sql\.gz$/);
    // Hashed as it was read back (a plain dump is written front to back): the file on disk has that hash.
    expect(outcome.artefact!.sha256).toBe((await sha256File(join(dir, outcome.artefact!.file))).sha256);
    const manifest = parseManifest(await readFile(join(dir, outcome.artefact!.file + ".manifest.json"), "utf8"))!;
    expect(manifest.serverVersion.num).toBeGreaterThan(100000);
    expect(manifest.clientVersion.text).toMatch(/^\d+\.\d+/);
    const scratch = await createScratchDb("ops_backup_plain");
    cleanups.push(scratch.drop);
    const sql = await runToolOk("sh", ["-c", `gzip -dc '${join(dir, outcome.artefact!.file)}'`], {
      maxStdout: 64 << 20,
    });
    expect(sql.stdout).toContain("-- PostgreSQL database dump complete");
    await runToolOk(pgBin("psql"), ["-v", "ON_ERROR_STOP=1", "-q", scratch.url], { input: sql.stdout });
    expect(await rowCounts(scratch.url)).toEqual(await rowCounts(source.url));
  });

  it("pg_dump killed mid-stream leaves no artefact and no partial", async () => {
    const dir = await newDir();
    const pidFile = join(dir, "..", `${dir.split("/").pop()}.pid`);
    cleanups.push(() => rm(pidFile, { force: true }));
    // Real pg_dump output, cut after 20 kB, then the "pg_dump" hangs until the test kills it.
    const fake = await writeScript(
      join(dir, "..", `${dir.split("/").pop()}-pg_dump`),
      `[ "$1" = --version ] && exec ${pgBin("pg_dump")} --version
echo $$ > ${pidFile}
${pgBin("pg_dump")} "$@" | head -c 20000
exec sleep 3600`,
    );
    cleanups.push(() => rm(fake, { force: true }));
    const running = runBackup({ config: config(dir, { PG_DUMP_BIN: fake }), log }, "manual");
    const partial = await waitUntil(
      "a partial file holding the first 20 kB",
      async () => {
        const name = (await readdir(dir)).find((f) => f.endsWith(".partial"));
        return name && (await stat(join(dir, name))).size >= 20000 ? name : null;
      },
      30_000,
    );
    expect(partial).toMatch(/\.dump\.partial$/);
    process.kill(Number(await readFile(pidFile, "utf8")), "SIGKILL");
    const outcome = await running;
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/pg_dump was killed by SIGKILL/);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ["custom", /pg_restore \(stream check\) exited with code 1/],
    ["plain", /lacks its completion trailer/],
  ])("a %s dump cut short by a pg_dump that still exits 0 fails verification", async (format, error) => {
    const dir = await newDir();
    const fake = await fakePgDump(dir, "cut", `${pgBin("pg_dump")} "$@" | head -c 6000`);
    await expectVerificationFails(dir, fake, format, error);
  });

  it.each([
    ["custom", /pg_restore \(stream check\) exited with code 1/],
    ["plain", /gzip stream/],
  ])(
    "a %s dump with 256 bytes overwritten mid-file by a pg_dump that exits 0 fails verification",
    async (format, error) => {
      const dir = await newDir();
      // The dump is decoded from the file as pg_dump writes it (not from a copy of the stream): damage in the file
      // must fail the check.
      const fake = await fakePgDump(
        dir,
        "corrupt",
        `tmp=$(mktemp)
${pgBin("pg_dump")} "$@" > "$tmp"
head -c 256 /dev/zero | tr '\\0' '\\377' | dd of="$tmp" bs=1 seek=$(( $(stat -c %s "$tmp") / 2 )) conv=notrunc 2>/dev/null
cat "$tmp"
rm -f "$tmp"`,
      );
      await expectVerificationFails(dir, fake, format, error);
    },
  );

  it("an older pg_dump is refused before anything is written", async () => {
    const dir = await newDir();
    // What pg_dump 9.6 says to a newer server, before it writes anything.
    const fake = await writeScript(
      join(dir, "..", `${dir.split("/").pop()}-old`),
      `echo "pg_dump: server version: 15.18 (Debian 15.18-1); pg_dump version: 9.6.24" >&2
echo "pg_dump: aborting because of server version mismatch" >&2
exit 1`,
    );
    cleanups.push(() => rm(fake, { force: true }));
    const outcome = await runBackup({ config: config(dir, { PG_DUMP_BIN: fake }), log }, "manual");
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/is PostgreSQL 9\.6 \(9\.6\.24\) but the server is 15 \(15\.18 .*install a client/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("sweeps stale partials of its own at start and leaves other files alone", async () => {
    const dir = await newDir();
    const stale = `${source.name}-20240101T000000.000Z.dump.partial`;
    const foreign = ["notes.txt", "mine.dump.partial", "other-20240101T000000.000Z.tar"];
    for (const f of [stale, ...foreign]) await writeFile(join(dir, f), "x");
    const outcome = await runBackup({ config: config(dir), log }, "manual");
    expect(outcome.status).toBe("ok");
    const left = await readdir(dir);
    expect(left).not.toContain(stale);
    for (const f of foreign) expect(left).toContain(f);
  });

  it("fails a dump much smaller than the previous backup and keeps the previous one", async () => {
    const db = await createScratchDb("ops_backup_shrink");
    cleanups.push(db.drop);
    await seed(db.url, 100, 5000);
    const dir = await newDir();
    const cfg = { ...config(dir, { BACKUP_MIN_SIZE_RATIO: "0.5" }), DATABASE_URL: db.url };
    const first = await runBackup({ config: cfg, log }, "manual");
    expect(first.status).toBe("ok");
    await query(db.url, "TRUNCATE solves");
    const second = await runBackup({ config: cfg, log }, "manual");
    expect(second.status).toBe("failed");
    expect(second.error).toMatch(/less than 50% of the previous backup/);
    expect((await readdir(dir)).filter((f) => !f.startsWith(".")).sort()).toEqual(
      [first.artefact!.file, first.artefact!.file + ".manifest.json"].sort(),
    );
  });

  it("skips while a restore holds the lock on the backups volume", async () => {
    const dir = await newDir();
    const lock = await acquireLock(join(dir, ".ops.lock"), "restore test");
    try {
      const outcome = await runBackup({ config: config(dir), log }, "manual");
      expect(outcome.status).toBe("skipped");
      expect(outcome.error).toMatch(/restore test/);
      expect((await readdir(dir)).filter((f) => f !== ".ops.lock")).toEqual([]);
    } finally {
      await lock.release();
    }
  });

  it("health turns unhealthy after a failed run; pings and webhook report start, success and failure", async () => {
    const received: { path: string; body: string }[] = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ path: req.url!, body });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => hook.close(r)));
    const base = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;

    const dir = await newDir();
    const cfg = config(dir, { BACKUP_INTERVAL_SECONDS: "3600" });
    const metrics = createBackupMetrics();
    const notifier = createNotifier({ pingUrl: `${base}/ping/abc`, webhookUrl: `${base}/hook`, log });
    const service = await startBackupService({ config: cfg, log, metrics, notifier });
    try {
      const health = () =>
        fetch(`http://127.0.0.1:${service.port}/healthz`).then(
          async (r) => [r.status, await r.json()] as [number, any],
        );
      expect((await health())[0]).toBe(200); // within the first period, no backup yet is fine
      expect((await service.trigger("manual"))!.status).toBe("ok");
      expect((await health())[0]).toBe(200);

      service.state.lastRun = undefined;
      cfg.DATABASE_URL = cfg.DATABASE_URL.replace(source.name, "no_such_database_here");
      const failed = await service.trigger("manual");
      expect(failed!.status).toBe("failed");
      const [status, body] = await health();
      expect(status).toBe(503);
      expect(body.reasons[0]).toMatch(/last run failed.*no_such_database_here/);
      const text = await fetch(`http://127.0.0.1:${service.port}/metrics`).then((r) => r.text());
      expect(text).toMatch(/backup_runs_total\{outcome="ok"\} 1/);
      expect(text).toMatch(/backup_runs_total\{outcome="failed"\} 1/);
    } finally {
      await service.stop();
    }
    const paths = received.map((r) => r.path);
    expect(paths).toEqual(["/ping/abc/start", "/ping/abc", "/hook", "/ping/abc/start", "/ping/abc/fail", "/hook"]);
    expect(JSON.parse(received[5]!.body)).toMatchObject({ event: "backup", status: "failed" });
  });
});
