import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transition } from "../../domain/instances.ts";
import { createDb, type Db } from "../../infra/db.ts";
import { startApi } from "../../api/host.ts";
import { createLogger } from "../../infra/logger.ts";
import { TEST_TOKEN, TestStack } from "../support/stack.ts";
import { readStream } from "../support/sse.ts";
import { holdAnswersToDocument } from "./openapi-check.ts";

describe("the dashboard's API", () => {
  let stack: TestStack;
  let db: Db;
  let backups: string;
  beforeAll(async () => {
    backups = await mkdtemp(join(tmpdir(), "ctfi-dash-"));
    stack = await TestStack.start({
      worker: false,
      assignWaitSeconds: 0,
      env: { BACKUP_DIR: backups, MAINTENANCE_FLAG_FILE: join(backups, "maintenance.on"), MAX_LIVE_INSTANCES: "7" },
    });
    db = createDb(stack.db.url, { max: 2 });
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await rm(backups, { recursive: true, force: true });
  });
  holdAnswersToDocument(() => stack);

  it("sums up capacity, challenges, latencies, failures, backups, the last restore and maintenance", async () => {
    const empty = (await stack.request("GET", "/admin/summary")).body;
    expect(empty.capacity).toEqual({ live: 0, max: 7, team_max: 100, containers: 0, containers_max: 2000 });
    expect(empty.backup).toBeNull();
    expect(empty.last_restore).toBeNull();
    expect(empty.maintenance).toEqual({ known: true, on: false, reason: null });

    const ids: string[] = [];
    for (const team of ["a", "b", "c"])
      ids.push(
        (await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: "web100" } })).body.instance_id,
      );
    // One starts, one fails (as the worker records them), one stays requested.
    await transition(db, ids[0]!, ["requested"], "running", { address: "http://10.0.0.1:1234", ttlSeconds: 60 });
    await transition(db, ids[1]!, ["requested"], "failed", { error: "image missing" });

    const dump = "ctf-20261201T010000.000Z.dump";
    await writeFile(join(backups, dump), "x");
    await writeFile(join(backups, `${dump}.manifest.json`), "{}");
    const twoHoursAgo = new Date(Date.now() - 7200_000);
    await utimes(join(backups, `${dump}.manifest.json`), twoHoursAgo, twoHoursAgo);
    for (const [dir, status, age, error] of [
      ["processed", "ok", 3 * 3600_000, undefined],
      ["failed", "failed", 600_000, "checksum does not match"],
    ] as const) {
      await mkdir(join(backups, "restore", dir), { recursive: true });
      const path = join(backups, "restore", dir, `${status}.result.json`);
      await writeFile(
        path,
        JSON.stringify({ file: `${status}.dump`, status, finishedAt: "2026-12-01T00:00:00Z", error }),
      );
      const at = new Date(Date.now() - age);
      await utimes(path, at, at);
    }
    await writeFile(join(backups, "restore", "failed", "broken.result.json"), "{not json"); // newest, unreadable
    await writeFile(join(backups, "maintenance.on"), "restore of ctf.dump\n");

    const s = (await stack.request("GET", "/admin/summary")).body;
    expect(s.capacity).toMatchObject({ live: 2, containers: 2 });
    expect(s.challenges).toEqual([{ challenge_id: "web100", live: 2, running: 1, failed_recently: 1 }]);
    expect(s.start_latency.counts.reduce((a: number, b: number) => a + b, 0)).toBe(1);
    expect(s.start_latency.counts).toHaveLength(s.start_latency.bucket_bounds_seconds.length + 1);
    expect(s.failures.bins).toHaveLength(18);
    expect(s.failures.bins.at(-1).failures).toBe(1);
    expect(s.backup.file).toBe(dump);
    expect(s.backup.age_seconds).toBeGreaterThanOrEqual(7199);
    expect(s.last_restore).toEqual({
      file: "failed.dump",
      status: "failed",
      finished_at: "2026-12-01T00:00:00Z",
      error: "checksum does not match",
    });
    expect(s.maintenance).toEqual({ known: true, on: true, reason: "restore of ctf.dump" });
  });

  it("streams a snapshot, then each change as it happens", async () => {
    let assigned = "";
    const { events, type } = await readStream(
      `${stack.url}/admin/events`,
      (event, data) => event === "instance" && data.instance_id === assigned,
      async () => {
        assigned = (await stack.request("POST", "/assign", { body: { team_id: "zulu", challenge_id: "web100" } })).body
          .instance_id;
      },
    );
    expect(type).toBe("text/event-stream");
    expect(events[0]!.event).toBe("snapshot");
    expect(events[0]!.data.instances.map((i: any) => i.team_id)).toEqual(expect.arrayContaining(["a", "b", "c"]));
    expect(events.map((e) => e.event)).toContain("summary");
    const change = events.find((e) => e.event === "instance")!.data;
    expect(change).toMatchObject({ team_id: "zulu", challenge_id: "web100", state: "requested" });
  });

  it("sends a fresh snapshot once the server's lost notifications are back", async () => {
    let id = "";
    const { events } = await readStream(
      `${stack.url}/admin/events`,
      (event, data) => event === "snapshot" && data.instances.some((i: any) => i.instance_id === id),
      async () => {
        // Cut the API's LISTEN connection, and change something while it reconnects.
        const cut = await db.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND query = 'LISTEN instance_state'`,
        );
        expect(cut.rowCount).toBe(1);
        id = (await stack.request("POST", "/assign", { body: { team_id: "yankee", challenge_id: "web100" } })).body
          .instance_id;
      },
    );
    expect(events.filter((e) => e.event === "snapshot").length).toBeGreaterThanOrEqual(2);
  });

  it("removes every live instance of a challenge only when the id is repeated as confirmation", async () => {
    const refused = await stack.request("POST", "/admin/challenges/web100/remove-all", { body: { confirm: "web1" } });
    expect(refused.status).toBe(400);
    const live = (await stack.request("GET", "/admin/summary")).body.challenges[0].live as number;
    const done = await stack.request("POST", "/admin/challenges/web100/remove-all", { body: { confirm: "web100" } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ challenge_id: "web100", removing: live });
    const stopping = await stack.request("GET", "/instances?state=stopping");
    expect(stopping.body.instances).toHaveLength(live);
    expect(stopping.body.instances[0].state_reason).toBe("removed by an organiser");
    const none = await stack.request("POST", "/admin/challenges/nothing/remove-all", { body: { confirm: "nothing" } });
    expect(none.body.removing).toBe(0);
  });

  it("ends its streams at once when the server drains", async () => {
    const api = await startApi(stack.apiConfig(), createLogger("api", "silent"));
    const res = await fetch(`${api.url}/admin/events`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false); // the snapshot
    const started = performance.now();
    await api.close();
    expect(performance.now() - started).toBeLessThan(2500); // SHUTDOWN_TIMEOUT_SECONDS is 5 here
    let done = false;
    while (!done) done = (await reader.read().catch(() => ({ done: true }))).done;
  });
});
