import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restoreFile } from "../../../ops/restore/run.ts";
import { createLogger } from "../../../infra/logger.ts";
import { runTool, runToolOk } from "../../../ops/shared/process.ts";
import { docker, startStandIns } from "../support/containers.ts";
import { tempDir } from "../support/files.ts";
import type { ScratchDb } from "../support/postgres.ts";
import { createScratchDb, pgBin, query } from "../support/postgres.ts";
import { dropFile, fileIdentity, restoreConfig } from "../support/restore.ts";

const log = createLogger("test-restore-validation", "silent");
const cleanups: (() => Promise<unknown>)[] = [];
let source: ScratchDb;
let target: ScratchDb;
let standIns: Awaited<ReturnType<typeof startStandIns>>;
let work: string;

/** Restores `path`, noting every step and whether the stand-ins kept running throughout. */
async function restoreWatched(watch: string, path: string, extra: Record<string, string> = {}) {
  const steps: string[] = [];
  const result = await restoreFile(
    {
      config: restoreConfig(target.url, watch, standIns.names, extra),
      docker,
      log,
      onStep: (s) => void steps.push(s),
    },
    path,
    await fileIdentity(path),
  );
  return { result, steps };
}

beforeAll(async () => {
  [source, target] = await Promise.all([createScratchDb("ops_rv_src"), createScratchDb("ops_rv_tgt")]);
  cleanups.push(source.drop, target.drop);
  // More than 100 tables: the table of contents is far longer than the header block it starts with.
  const tables = Array.from({ length: 120 }, (_, i) => `CREATE TABLE t${i} (id int PRIMARY KEY, v text);`).join("");
  await query(source.url, tables);
  // Enough data that a file cut in half loses data blocks, not its table of contents.
  await query(source.url, "INSERT INTO t0 SELECT g, md5(g::text) FROM generate_series(1, 200000) g");
  await query(target.url, "CREATE TABLE live (v text); INSERT INTO live VALUES ('kept')");
  standIns = await startStandIns("ops-restore-val", ["web"]);
  cleanups.push(standIns.remove);
  const dir = await tempDir("restore-val");
  cleanups.push(dir.remove);
  work = dir.path;
  await runToolOk(pgBin("pg_dump"), ["-Fc", `--dbname=${source.url}`, "-f", join(work, "src.dump")]);
});

afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("restore validation", () => {
  it("reads the version of a dump with more than 100 tables from its header and refuses a newer major", async () => {
    const [row] = await query<{ server_version: string }>(source.url, "SHOW server_version");
    const version = row!.server_version;
    const bytes = await readFile(join(work, "src.dump"));
    // The archive header stores the server's version string right after the database name: claim major 99.
    const at = bytes.indexOf(Buffer.from(version));
    expect(at).toBeGreaterThan(0);
    const major = version.split(".")[0]!;
    bytes.write("99".padStart(major.length, "9"), at, "latin1");
    await writeFile(join(work, "newer.dump"), bytes);
    const listing = await runToolOk(pgBin("pg_restore"), ["--list", join(work, "newer.dump")]);
    expect(listing.stdout.split("\n").length).toBeGreaterThan(100);
    expect(listing.stdout).toMatch(/Dumped from database version: 99/);

    const { watch, path } = await dropFile("newer.dump", join(work, "newer.dump"), cleanups);
    const { result, steps } = await restoreWatched(watch, path);
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/the dump comes from PostgreSQL 99\.\S+, newer than the server's/);
    expect(steps).toEqual([]); // refused in validation: nothing stopped
    expect(await standIns.running()).toEqual({ [standIns.names[0]!]: true });
  });

  it("a truncated custom-format dump fails validation, before anything is stopped", async () => {
    const cut = join(work, "cut.dump");
    await writeFile(cut, await readFile(join(work, "src.dump")));
    await truncate(cut, Math.floor((await stat(cut)).size / 2));
    // What made it slip through: its table of contents still lists.
    expect((await runTool(pgBin("pg_restore"), ["--list", cut])).code).toBe(0);

    const { watch, path } = await dropFile("cut.dump", cut, cleanups);
    const { result, steps } = await restoreWatched(watch, path);
    expect(result.status).toBe("failed");
    expect(result.steps.find((s) => s.name === "read data")).toMatchObject({ ok: false });
    expect(result.error).toMatch(/pg_restore \(full read\)/);
    expect(steps).not.toContain("stop containers");
    expect(result.stopped).toEqual([]);
    expect(await query(target.url, "SELECT v FROM live")).toEqual([{ v: "kept" }]);
  });

  it("a SQLite file in WAL mode is validated without leaving -wal or -shm files in incoming/", async () => {
    const dir = (await tempDir("restore-val-sqlite")).path;
    cleanups.push(() => runToolOk("rm", ["-rf", dir]));
    const made = join(dir, "made.db");
    const db = new DatabaseSync(made);
    db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2), (3);");
    db.close();
    const live = join(dir, "app.db");
    new DatabaseSync(live).close();

    const { watch, path } = await dropFile("snapshot.db", made, cleanups);
    let incomingAtValidation: string[] = [];
    const result = await restoreFile(
      {
        config: restoreConfig(target.url, watch, standIns.names, { RESTORE_SQLITE_PATH: live }),
        docker,
        log,
        onStep: async (s) => {
          if (s === "validate") incomingAtValidation = await readdir(join(watch, "incoming"));
        },
      },
      path,
      await fileIdentity(path),
    );
    expect(result.status, result.error).toBe("ok");
    expect(incomingAtValidation).toEqual(["snapshot.db"]);
    expect(await readdir(join(watch, "incoming"))).toEqual([]);
    expect(await readdir(join(watch, "work"))).toEqual([]);
    const restored = new DatabaseSync(live, { readOnly: true });
    expect(restored.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 3 });
    restored.close();
  });
});
