import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentContainers } from "../support/docker.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("no worker running", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false, assignWaitSeconds: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("assign answers 202 with a Location; once a worker starts, the instance runs", async () => {
    const started = Date.now();
    const res = await stack.request("POST", "/assign", { body: { team_id: "patient", challenge_id: "web100" } });
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.body.state).toBe("requested");
    const location = res.headers.get("location")!;
    expect(location).toBe(`/instances/${res.body.instance_id}`);
    expect(await deploymentContainers(stack.deployment)).toHaveLength(0);

    await stack.startWorker();
    const running = await waitUntil("instance running", async () => {
      const r = await stack.request("GET", location);
      return r.body.state === "running" ? r.body : null;
    });
    const page = await fetch(running.container_address);
    expect(page.status).toBe(200);
    expect(await deploymentContainers(stack.deployment, false)).toHaveLength(1);
  });
});
