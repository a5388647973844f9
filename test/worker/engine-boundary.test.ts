import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertChallenge } from "../../domain/challenges.ts";
import { getInstance, insertRequestedOrGetLive } from "../../domain/instances.ts";
import { loadWorkerConfig } from "../../infra/config.ts";
import { createDb, type Db } from "../../infra/db.ts";
import { createLogger } from "../../infra/logger.ts";
import type { InstanceQueue } from "../../infra/queue.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import type { Engine, Observation, StartedWorkload } from "../../worker/engine/engine.ts";
import { createWorkerMetrics } from "../../worker/metrics.ts";
import { PortProber } from "../../worker/port-probe.ts";
import { startInstance } from "../../worker/processors/start-instance.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { WEB100 } from "../support/stack.ts";

/**
 * The start processor sees only the engine interface: where the row says the instance answers, and where the
 * readiness probe knocks, are what the engine reports, whatever engine it is (a cluster answers with a node).
 */
describe("the start processor behind the engine interface", () => {
  let database: TestDatabase;
  let db: Db;
  let server: Server;
  let serverPort = 0;
  let probed = 0;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, { max: 2 });
    await upsertChallenge(db, "web100", WEB100);
    server = createServer((socket) => {
      probed++;
      socket.resume(); // reads what the probe sends, so the close it sends after is seen
      socket.end("hello");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    serverPort = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.end();
    await database?.drop();
  });

  /** An engine that answers as told and records what it was asked to remove. */
  function fakeEngine(answers: { start: () => Promise<StartedWorkload>; seen?: Observation; kind?: "unreachable" }) {
    const removed: string[] = [];
    const engine: Engine = {
      start: answers.start,
      observe: async () => answers.seen ?? { state: "running" },
      removeWorkload: async (id) => {
        removed.push(`workload ${id}`);
        return 1;
      },
      removeNetwork: async (id) => {
        removed.push(`network ${id}`);
      },
      removeObject: async () => {},
      listOurs: async () => ({ workloads: [], networks: [] }),
      watchDeaths: async () => ({ close: () => {} }),
      facts: async () => ({ refs: [], cpus: 1 }),
      classify: () => answers.kind ?? "permanent",
    };
    return { engine, removed };
  }

  async function runStart(engine: Engine): Promise<{ id: string; outcome: unknown }> {
    const { row } = await insertRequestedOrGetLive(db, {
      teamId: `team-${randomUUID()}`,
      challengeId: "web100",
      requestId: "req-1",
    });
    const config = loadWorkerConfig({
      DATABASE_URL: database.url,
      REDIS_URL: "redis://127.0.0.1:1",
      PUBLIC_HOST: "public-host-the-engine-overrides.example",
      DEPLOYMENT_NAME: "boundary",
      START_TIMEOUT_SECONDS: "3",
    });
    // Scheduling the expiry fails here; the processor leaves that to the sweeper, so no Redis is needed.
    const queue = { add: async () => Promise.reject(new Error("no queue in this test")) } as unknown as InstanceQueue;
    const deps: WorkerDeps = {
      config,
      db,
      engine,
      queue,
      logger: createLogger("worker", "silent"),
      prober: new PortProber(),
      metrics: createWorkerMetrics({ db, queue }),
    };
    const job = { id: `start-${row.id}`, attemptsMade: 0, opts: { attempts: 1 } } as unknown as Job;
    const outcome = await startInstance.run({ instanceId: row.id, requestId: "req-1" }, job, deps).catch((e) => e);
    return { id: row.id, outcome };
  }

  /** What an engine reports for a single-container instance: players at `answersAt`, the probe on loopback. */
  const started = (ref: string, answersAt: { host: string; port: number }, probePort: number): StartedWorkload => ({
    ref,
    endpoints: [
      {
        container: "main",
        port: 80,
        protocol: "http",
        answersAt,
        probeAt: { host: "127.0.0.1", port: probePort },
        direct: null,
      },
    ],
  });

  it("records the address the engine reports, after the probe answered where the engine said", async () => {
    const { engine, removed } = fakeEngine({
      start: async () => started("workload-1", { host: "node-2.cluster.example", port: 31337 }, serverPort),
    });
    const before = probed;
    const { id, outcome } = await runStart(engine);
    expect(outcome).toBeUndefined();
    const row = await getInstance(db, id);
    expect(row).toMatchObject({
      state: "running",
      address: "http://node-2.cluster.example:31337",
      host_port: 31337,
      container_id: "workload-1",
    });
    expect(probed).toBeGreaterThan(before);
    expect(removed).toEqual([]);
  });

  it("fails the instance with the reason the engine observed, and removes what was made", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const refusedPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const { engine, removed } = fakeEngine({
      start: async () => started("workload-2", { host: "node-1.cluster.example", port: 31000 }, refusedPort),
      seen: { state: "exited", reason: "container exited (exit code 3)" },
    });
    const { id } = await runStart(engine);
    const row = await getInstance(db, id);
    expect(row?.state).toBe("failed");
    expect(row?.error).toBe("container exited (exit code 3) before its port accepted connections");
    expect(removed).toEqual([`workload ${id}`, `network ${id}`]);
  });

  it("leaves the instance starting when the engine is unreachable on the last attempt", async () => {
    const { engine } = fakeEngine({
      start: async () => Promise.reject(Object.assign(new Error("connect ENOENT"), { code: "ENOENT" })),
      kind: "unreachable",
    });
    const { id, outcome } = await runStart(engine);
    expect(outcome).toMatchObject({ name: "UnrecoverableError", message: "connect ENOENT" });
    expect((await getInstance(db, id))?.state).toBe("starting");
  });
});
