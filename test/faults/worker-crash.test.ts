import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL } from "../../worker/docker/labels.ts";
import { deploymentContainers } from "../support/docker.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { WorkerProcess } from "../support/worker-process.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("worker killed with SIGKILL during a burst", () => {
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill("SIGKILL");
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  // Budget: the busy wait and the settling wait below.
  it(
    "after a restart every instance ends running or failed with a reason: no orphan, no duplicate",
    { timeout: 150_000 },
    async () => {
      const env = { ...stack.env(), LOG_LEVEL: "warn", JOB_LOCK_SECONDS: "3", START_TIMEOUT_SECONDS: "10" };
      const first = new WorkerProcess(env);
      workers.push(first);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          stack.request("POST", "/assign", {
            body: { team_id: `burst${i}`, challenge_id: "web100" },
            headers: { prefer: "respond-async" },
          }),
        ),
      );
      expect(answers.every((a) => a.status === 202)).toBe(true);

      // Kill it while it is busy: some instances started, some half-way, some not picked up.
      await waitUntil(
        "worker busy",
        async () => {
          const r = await stack.api.deps.db.query("SELECT count(*)::int AS n FROM instances WHERE state = 'running'");
          return r.rows[0].n >= 5;
        },
        30_000,
      );
      await first.kill("SIGKILL");
      const atKill = await stack.api.deps.db.query("SELECT state, count(*)::int AS n FROM instances GROUP BY state");
      expect(atKill.rows.some((r) => r.state !== "running")).toBe(true);

      workers.push(new WorkerProcess(env));
      const settled = await waitUntil(
        "every instance settled",
        async () => {
          const r = await stack.api.deps.db.query("SELECT id, state, error FROM instances");
          return r.rows.every((row) => row.state === "running" || row.state === "failed") ? r.rows : null;
        },
        90_000,
      );
      expect(settled).toHaveLength(50);
      for (const row of settled.filter((r) => r.state === "failed")) expect(row.error).toBeTruthy();

      const containers = await deploymentContainers(stack.deployment);
      const perInstance = new Map<string, number>();
      for (const c of containers) {
        const id = c.Labels[LABEL.instanceId]!;
        perInstance.set(id, (perInstance.get(id) ?? 0) + 1);
      }
      const running = new Set(settled.filter((r) => r.state === "running").map((r) => r.id));
      expect([...perInstance.values()].every((n) => n === 1)).toBe(true); // no duplicate
      expect([...perInstance.keys()].every((id) => running.has(id))).toBe(true); // no orphan
      expect(perInstance.size).toBe(running.size); // every running row has its container
      expect(containers.every((c) => c.State === "running")).toBe(true);
    },
  );
});
