import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.ts";
import { copyImage, labDown, labUp, ownLab, restartEngine, type LabEngine } from "../support/lab.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

// The engine restarted here is one of this file's own (lab "rstart"), so the rest of the suite runs on undisturbed.
const LAB = ownLab("rst");
let engine: LabEngine;

const engineUp = async () => {
  try {
    await engine.docker.ping();
    return true;
  } catch {
    return false;
  }
};

describe("the Docker engine restarts under a running worker", () => {
  let stack: TestStack;
  beforeAll(async () => {
    [engine] = (await labUp(LAB, 1)) as [LabEngine];
    await copyImage(testEnv.challengeImage, engine);
    // The worker of this process reaches Docker through DOCKER_HOST, like the real one.
    process.env.DOCKER_HOST = engine.dockerHost;
    // Periodic reconciliation is pushed out of the way: only the events stream and its resume can act here.
    stack = await TestStack.start({
      env: {
        RECONCILE_INTERVAL_SECONDS: "3600",
        MAX_RESTARTS: "5",
        PUBLIC_HOST: engine.host,
        PORT_BIND_ADDRESS: engine.host,
      },
    });
    await stack.request("PUT", "/challenges/phoenix", {
      body: { image: WEB100.image, port: 80, restart_on_exit: true },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await labDown(LAB);
  });
  holdAnswersToDocument(() => stack);

  // Budget: engine stop and start (up to 2 min) plus the waits below.
  it("events resume after the restart and the database converges on what runs", { timeout: 300_000 }, async () => {
    const plain = await stack.request("POST", "/assign", { body: { team_id: "plain", challenge_id: "web100" } });
    const phoenix = await stack.request("POST", "/assign", { body: { team_id: "phoenix", challenge_id: "phoenix" } });
    expect([plain.status, phoenix.status]).toEqual([200, 200]);

    await restartEngine(LAB, 1);
    await waitUntil("engine answering", engineUp, 60_000);

    const instance = async (id: string) => (await stack.request("GET", `/instances/${id}`)).body;
    const failed = await waitUntil(
      "plain instance marked",
      async () => {
        const row = await instance(plain.body.instance_id);
        return row.state === "failed" ? row : null;
      },
      60_000,
    );
    expect(failed.error).toMatch(/container (exited|vanished)/);
    let lastSeen: unknown;
    const back = await waitUntil(
      "phoenix running again",
      async () => {
        const row = await instance(phoenix.body.instance_id);
        lastSeen = { state: row.state, error: row.error, reason: row.state_reason };
        return row.state === "running" && row.started_at !== phoenix.body.started_at ? row : null;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${JSON.stringify(lastSeen)}`);
    });
    expect((await fetch(`${back.container_address}/team.txt`)).status).toBe(200);

    // The events stream is live again: a death now is handled within seconds, long before any periodic pass.
    const { rows } = await stack.api.deps.db.query("SELECT container_id, restarts FROM instances WHERE id = $1", [
      phoenix.body.instance_id,
    ]);
    await engine.docker.getContainer(rows[0].container_id).kill();
    await waitUntil(
      "phoenix restarted again through events",
      async () => {
        const r = await stack.api.deps.db.query("SELECT state, restarts FROM instances WHERE id = $1", [
          phoenix.body.instance_id,
        ]);
        return r.rows[0].state === "running" && r.rows[0].restarts === rows[0].restarts + 1;
      },
      20_000,
    );
  });
});
