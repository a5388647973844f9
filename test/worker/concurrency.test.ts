import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentContainers } from "../support/docker.ts";
import { TestStack } from "../support/stack.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe("concurrent assigns", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("20 concurrent assigns of one (team, challenge) converge on one container and one address", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.request("POST", "/assign", { body: { team_id: "racer", challenge_id: "web100" } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.container_address)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.instance_id)).size).toBe(1);
    const containers = (await deploymentContainers(stack.deployment)).filter((c) => c.Labels[LABEL.teamId] === "racer");
    expect(containers).toHaveLength(1);
    const rows = await stack.api.deps.db.query("SELECT count(*)::int AS n FROM instances WHERE team_id = 'racer'");
    expect(rows.rows[0].n).toBe(1);
  });

  it("10 teams at once get 10 containers on distinct ports, each serving its own team", async () => {
    const teams = Array.from({ length: 10 }, (_, i) => `crowd${i}`);
    const answers = await Promise.all(
      teams.map((team) => stack.request("POST", "/assign", { body: { team_id: team, challenge_id: "web100" } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const ports = answers.map((a) => a.body.host_port);
    expect(new Set(ports).size).toBe(10);
    const containers = (await deploymentContainers(stack.deployment)).filter((c) =>
      c.Labels[LABEL.teamId]?.startsWith("crowd"),
    );
    expect(containers).toHaveLength(10);
    for (const [i, answer] of answers.entries()) {
      const res = await fetch(`${answer.body.container_address}/team.txt`);
      expect((await res.text()).trim()).toBe(teams[i]);
    }
  });
});
