import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../support/docker.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";

const run = promisify(execFile);

// Runs in its own vitest group after every other test file (vitest.config.ts): restarting the engine stops
// every container on it.

const engineUp = async () => {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
};

const START_DOCKERD = fileURLToPath(new URL("../../scripts/start-dockerd.sh", import.meta.url));

/** Stops dockerd, then starts it the way the test services do (which also survives a known engine start bug). */
async function restartDockerd(): Promise<void> {
  const pid = (await run("pidof", ["dockerd"])).stdout.trim().split(/\s+/)[0]!;
  process.kill(Number(pid), "SIGTERM");
  await waitUntil(
    "dockerd stopped",
    () =>
      run("pidof", ["dockerd"]).then(
        () => false,
        () => true,
      ),
    60_000,
  );
  await run("bash", [START_DOCKERD]);
  await waitUntil("dockerd answering", engineUp, 60_000);
}

describe("the Docker engine restarts under a running worker", () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Periodic reconciliation is pushed out of the way: only the events stream and its resume can act here.
    stack = await TestStack.start({ env: { RECONCILE_INTERVAL_SECONDS: "3600", MAX_RESTARTS: "5" } });
    await stack.request("PUT", "/challenges/phoenix", {
      body: { image: WEB100.image, port: 80, restart_on_exit: true },
    });
  });
  afterAll(async () => {
    await waitUntil("engine up for cleanup", engineUp, 60_000).catch(() => {});
    await stack?.stop();
  });

  // Budget: engine stop and start (up to 2 min) plus the waits below.
  it("events resume after the restart and the database converges on what runs", { timeout: 300_000 }, async () => {
    const plain = await stack.request("POST", "/assign", { body: { team_id: "plain", challenge_id: "web100" } });
    const phoenix = await stack.request("POST", "/assign", { body: { team_id: "phoenix", challenge_id: "phoenix" } });
    expect([plain.status, phoenix.status]).toEqual([200, 200]);

    await restartDockerd();

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
    await docker.getContainer(rows[0].container_id).kill();
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
