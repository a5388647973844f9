import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL } from "../../worker/docker/labels.ts";
import { reconcile } from "../../worker/reconciler.ts";
import { docker } from "../support/docker.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("reconciliation with objects whose instance-id label is malformed", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  const labels = (instanceId: string) => ({
    [LABEL.managed]: "true",
    [LABEL.deployment]: stack.deployment,
    [LABEL.instanceId]: instanceId,
  });
  const gone = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ statusCode: 404 });

  it("removes them as orphans and still does the rest of the pass", async () => {
    const assigned = await stack.request("POST", "/assign", { body: { team_id: "vanish", challenge_id: "web100" } });
    expect(assigned.status).toBe(200);
    const { rows } = await stack.api.deps.db.query("SELECT container_id FROM instances WHERE id = $1", [
      assigned.body.instance_id,
    ]);
    await docker.getContainer(rows[0].container_id).remove({ force: true });

    const badContainer = await docker.createContainer({ Image: WEB100.image, Labels: labels("not-a-uuid") });
    const badNetwork = await docker.createNetwork({ Name: `ctfi-${stack.deployment}-bad`, Labels: labels("x'; --") });
    const orphan = await docker.createContainer({ Image: WEB100.image, Labels: labels(randomUUID()) });

    const result = await reconcile(stack.worker!.deps);

    await gone(docker.getContainer(badContainer.id).inspect());
    await gone(docker.getNetwork(badNetwork.id).inspect());
    await gone(docker.getContainer(orphan.id).inspect());
    expect(result.orphans).toBeGreaterThanOrEqual(3);
    const row = (await stack.request("GET", `/instances/${assigned.body.instance_id}`)).body;
    // Marked by this pass or, a moment earlier, by the engine's die event for the removal.
    expect(row.state).toBe("failed");
    expect(row.error).toMatch(/^container (vanished|exited)/);
  });
});
