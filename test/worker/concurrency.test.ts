import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownLab } from "../support/lab.ts";
import { engines, type EngineUnderTest } from "../support/engines.ts";
import type { TestStack } from "../support/stack.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

describe.each(engines(ownLab("conc")))("concurrent assigns on $name", (choice) => {
  let engine: EngineUnderTest;
  let stack: TestStack;
  beforeAll(async () => {
    engine = await choice.up();
    stack = await engine.start();
  });
  afterAll(async () => {
    await stack?.stop();
    await engine?.close();
  });
  holdAnswersToDocument(() => stack);

  it("20 concurrent assigns of one (team, challenge) converge on one workload and one address", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.request("POST", "/assign", { body: { team_id: "racer", challenge_id: "web100" } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.container_address)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.instance_id)).size).toBe(1);
    const workloads = (await engine.workloads(stack.deployment)).filter((l) => l[LABEL.teamId] === "racer");
    expect(workloads).toHaveLength(1);
    const rows = await stack.api.deps.db.query("SELECT count(*)::int AS n FROM instances WHERE team_id = 'racer'");
    expect(rows.rows[0].n).toBe(1);
  });

  it("10 teams at once get 10 workloads at distinct addresses, each serving its own team", async () => {
    const teams = Array.from({ length: 10 }, (_, i) => `crowd${i}`);
    const answers = await Promise.all(
      teams.map((team) => stack.request("POST", "/assign", { body: { team_id: team, challenge_id: "web100" } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    // On a cluster, two nodes may give the same port: the address names the node too.
    expect(new Set(answers.map((a) => a.body.container_address)).size).toBe(10);
    const workloads = (await engine.workloads(stack.deployment)).filter((l) => l[LABEL.teamId]?.startsWith("crowd"));
    expect(workloads).toHaveLength(10);
    for (const [i, answer] of answers.entries()) {
      const res = await fetch(`${answer.body.container_address}/team.txt`);
      expect((await res.text()).trim()).toBe(teams[i]);
    }
  });
});
