import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, deploymentContainers } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("assign and remove, end to end", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("assign runs a labelled, hardened container whose address answers; remove takes it away", async () => {
    const requestId = `req-${stack.id}`;
    const assigned = await stack.request("POST", "/assign", {
      body: { team_id: "team1", challenge_id: "web100" },
      headers: { "x-request-id": requestId },
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({
      message: "Container assigned successfully.",
      state: "running",
      team_id: "team1",
      challenge_id: "web100",
    });
    expect(assigned.body.container_address).toMatch(
      new RegExp(`^http://${testEnv.engineHost.replaceAll(".", "\\.")}:\\d+$`),
    );
    expect(assigned.headers.get("x-request-id")).toBe(requestId);

    // The container is there, found by label, carrying the request id.
    const containers = await deploymentContainers(stack.deployment, false);
    expect(containers).toHaveLength(1);
    const info = await docker.getContainer(containers[0]!.Id).inspect();
    expect(info.Config.Labels[LABEL.instanceId]).toBe(assigned.body.instance_id);
    expect(info.Config.Labels[LABEL.teamId]).toBe("team1");
    expect(info.Config.Labels[LABEL.requestId]).toBe(requestId);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.MemorySwap).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.PidsLimit).toBe(64);
    expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
    expect(info.HostConfig.Init).toBe(true);

    // The address serves this team's copy.
    const page = await fetch(`${assigned.body.container_address}/team.txt`);
    expect(page.status).toBe(200);
    expect((await page.text()).trim()).toBe("team1");

    // The row says running, with the same address.
    const status = await stack.request("GET", `/instances/${assigned.body.instance_id}`);
    expect(status.body).toMatchObject({ state: "running", container_address: assigned.body.container_address });

    // Assigning again returns the same instance, never a second container.
    const again = await stack.request("POST", "/assign", { body: { team_id: "team1", challenge_id: "web100" } });
    expect(again.status).toBe(200);
    expect(again.body.instance_id).toBe(assigned.body.instance_id);
    expect(await deploymentContainers(stack.deployment)).toHaveLength(1);

    const removed = await stack.request("POST", "/remove", { body: { team_id: "team1", challenge_id: "web100" } });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ message: "Container removed successfully.", state: "removed" });
    expect(await deploymentContainers(stack.deployment)).toHaveLength(0);
    // Its network goes right after the answer.
    await waitUntil("instance network removed", async () => {
      const nets = await docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${stack.deployment}`] } });
      return nets.length === 0;
    });

    // Every state change is on record, in order.
    const transitions = await stack.api.deps.db.query(
      "SELECT from_state, to_state FROM instance_transitions WHERE instance_id = $1 ORDER BY id",
      [assigned.body.instance_id],
    );
    expect(transitions.rows.map((r) => r.to_state)).toEqual([
      "requested",
      "starting",
      "running",
      "stopping",
      "removed",
    ]);

    // Nothing live is left to remove.
    const second = await stack.request("POST", "/remove", { body: { team_id: "team1", challenge_id: "web100" } });
    expect(second.status).toBe(404);
    expect(second.body.error.code).toBe("not_found");
  });

  it("Prefer: respond-async answers 202 at once with a Location that later shows the running instance", async () => {
    const res = await stack.request("POST", "/assign", {
      body: { team_id: "team2", challenge_id: "web100" },
      headers: { prefer: "respond-async" },
    });
    expect(res.status).toBe(202);
    const location = res.headers.get("location");
    expect(location).toBe(`/instances/${res.body.instance_id}`);
    const deadline = Date.now() + 30_000;
    let state = res.body.state;
    while (state !== "running" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await stack.request("GET", location!)).body.state;
    }
    expect(state).toBe("running");
    const removed = await stack.request("POST", "/remove", {
      body: { team_id: "team2", challenge_id: "web100" },
    });
    expect(removed.status).toBe(200);
  });

  it("saving a challenge the engine can run gives no warning; more CPUs than it has, one", async () => {
    const image = (await stack.request("GET", "/challenges/web100")).body.image as string;
    for (const ref of [image, `docker.io/${image}`]) {
      const put = await stack.request("PUT", "/challenges/present", { body: { image: ref, port: 80 } });
      expect(put.status).toBeLessThan(300);
      expect(put.body.warnings).toEqual([]);
    }
    const { NCPU } = (await docker.info()) as { NCPU: number };
    const cpus = Math.min(NCPU + 1, 64);
    const put = await stack.request("PUT", "/challenges/present", { body: { image, port: 80, cpus } });
    expect(put.body.warnings).toEqual(
      cpus > NCPU ? [expect.stringMatching(new RegExp(`^cpus ${cpus} is more than the Docker engine's ${NCPU} `))] : [],
    );
  });

  it("a challenge whose image does not exist fails with the reason and leaves no container", async () => {
    const put = await stack.request("PUT", "/challenges/ghost", {
      body: { image: "ctf-instancer/does-not-exist:latest", port: 80 },
    });
    expect(put.status).toBe(201);
    // The organiser learns it when saving the challenge, from the images the worker saw on the engine.
    expect(put.body.warnings).toEqual([
      expect.stringMatching(/^image 'ctf-instancer\/does-not-exist:latest' is not on the Docker engine/),
    ]);
    const res = await stack.request("POST", "/assign", { body: { team_id: "team3", challenge_id: "ghost" } });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("instance_failed");
    expect(res.body.error.message).toMatch(/image 'ctf-instancer\/does-not-exist:latest' is not available/);
    const row = await stack.request("GET", `/instances/${res.body.error.details.instance_id}`);
    expect(row.body.state).toBe("failed");
    expect(
      (await deploymentContainers(stack.deployment)).filter((c) => c.Labels[LABEL.challengeId] === "ghost"),
    ).toHaveLength(0);
  });

  it("a container that exits before listening fails with its exit reason and is removed", async () => {
    await stack.request("PUT", "/challenges/crashy", {
      body: { image: "busybox:stable", port: 80, env: { UNUSED: "1" } },
    });
    const res = await stack.request("POST", "/assign", { body: { team_id: "team4", challenge_id: "crashy" } });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("instance_failed");
    expect(res.body.error.message).toMatch(/container exited \(exit code \d+\) before its port accepted connections/);
    expect(
      (await deploymentContainers(stack.deployment)).filter((c) => c.Labels[LABEL.challengeId] === "crashy"),
    ).toHaveLength(0);
  });
});
