// Runs after every other test file (vitest.config.ts): the suite worked on engines of its own and left the
// machine's own engine, its containers, /etc/docker, its links and firewall rules as they were before it started.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { machineState, type MachineState } from "../support/machine.ts";

const snapshotFile = process.env.TEST_MACHINE_BEFORE;
const before = (snapshotFile ? JSON.parse(readFileSync(snapshotFile, "utf8")) : null) as MachineState;

describe.skipIf(!before)("the machine after the whole suite (recorded by npm test before it)", () => {
  it("has every container of its own engine still running, never restarted", async () => {
    const after = await machineState();
    expect(after.containers === null).toBe(before.containers === null);
    for (const container of before.containers ?? [])
      expect(after.containers, `container ${container.name}`).toContainEqual(container);
  });

  it("got no container, network or volume of ours on its own engine", async () => {
    expect((await machineState()).ours).toEqual(before.ours);
  });

  it("has /etc/docker, its links and its firewall rules as before", async () => {
    const after = await machineState();
    expect(after.etcDocker).toEqual(before.etcDocker);
    expect(after.links).toEqual(expect.arrayContaining(before.links));
    expect(after.rules).toEqual(expect.arrayContaining(before.rules));
  });

  it("holds no firewall rule of the suite's but one ACCEPT per lab bridge", async () => {
    for (const rule of (await machineState()).labRules)
      expect(rule).toMatch(/^filter -A (DOCKER-USER|FORWARD) -i ctfi-[a-z0-9]{1,6} -j ACCEPT$/);
  });

  // With no engine of the machine's own running, nothing but the suite could add Docker links or rules here.
  it.skipIf(before.containers !== null)("gained no link and no rule while no engine of its own ran", async () => {
    const after = await machineState();
    expect(after.links.filter((l) => !before.links.includes(l))).toEqual([]);
    expect(after.rules).toEqual(before.rules);
  });
});
