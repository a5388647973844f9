import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL } from "../../worker/docker/labels.ts";
import { docker, deploymentContainers } from "../support/docker.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("reconciliation and Docker events", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ env: { MAX_RESTARTS: "2" } });
    await stack.request("PUT", "/challenges/phoenix", {
      body: { image: WEB100.image, port: 80, restart_on_exit: true },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  const instance = async (id: string) => (await stack.request("GET", `/instances/${id}`)).body;
  const containerOf = async (id: string) =>
    (await stack.api.deps.db.query("SELECT container_id FROM instances WHERE id = $1", [id])).rows[0].container_id;

  it("a container that dies is noticed through the events stream and its row marked failed with the reason", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "victim", challenge_id: "web100" } });
    await docker.getContainer(await containerOf(res.body.instance_id)).kill();
    const failed = await waitUntil(
      "row failed",
      async () => {
        const row = await instance(res.body.instance_id);
        return row.state === "failed" ? row : null;
      },
      10_000,
    );
    expect(failed.error).toMatch(/container exited \(exit code \d+\)/);
    await waitUntil("dead container cleared", async () =>
      (await deploymentContainers(stack.deployment)).every((c) => c.Labels[LABEL.instanceId] !== res.body.instance_id),
    );
  });

  it("a challenge with restart_on_exit is started again and serves again", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "phoenix", challenge_id: "phoenix" } });
    await docker.getContainer(await containerOf(res.body.instance_id)).kill();
    const back = await waitUntil(
      "restarted",
      async () => {
        const row = await instance(res.body.instance_id);
        return row.state === "running" && row.started_at !== res.body.started_at ? row : null;
      },
      45_000,
    );
    const transitions = await stack.api.deps.db.query(
      "SELECT to_state, reason FROM instance_transitions WHERE instance_id = $1 ORDER BY id",
      [res.body.instance_id],
    );
    expect(transitions.rows.map((r) => r.to_state)).toEqual([
      "requested",
      "starting",
      "running",
      "starting",
      "running",
    ]);
    expect(transitions.rows[3].reason).toMatch(/restarting: container exited/);
    expect((await fetch(`${back.container_address}/team.txt`)).status).toBe(200);
    const restarts = await stack.api.deps.db.query("SELECT restarts FROM instances WHERE id = $1", [
      res.body.instance_id,
    ]);
    expect(restarts.rows[0].restarts).toBe(1);
  });

  it("at worker start: orphan containers are removed and rows whose container vanished are marked", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "ghosted", challenge_id: "web100" } });
    await stack.worker!.close();
    // While no worker runs: its container disappears, and a stray one of this deployment appears.
    await docker.getContainer(await containerOf(res.body.instance_id)).remove({ force: true });
    const stray = await docker.createContainer({
      Image: WEB100.image,
      Labels: { [LABEL.deployment]: stack.deployment, [LABEL.instanceId]: randomUUID(), [LABEL.managed]: "true" },
    });
    await stack.startWorker();
    await expect(docker.getContainer(stray.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const row = await instance(res.body.instance_id);
    expect(row.state).toBe("failed");
    expect(row.error).toBe("container vanished");
  });

  it("a row stuck in stopping past its deadline is finished by the sweeper", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "stuck", challenge_id: "web100" } });
    await stack.api.deps.db.query(
      "UPDATE instances SET state = 'stopping', updated_at = now() - interval '1 minute' WHERE id = $1",
      [res.body.instance_id],
    );
    await waitUntil(
      "stuck row removed",
      async () => (await instance(res.body.instance_id)).state === "removed",
      20_000,
    );
    const left = (await deploymentContainers(stack.deployment)).filter(
      (c) => c.Labels[LABEL.instanceId] === res.body.instance_id,
    );
    expect(left).toHaveLength(0);
  });
});
