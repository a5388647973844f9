// The lab itself: N private engines come up on one bridge, reach each other, and `down` leaves nothing behind.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.ts";
import { copyImage, labDown, labUp, ownLab, type LabEngine } from "../support/lab.ts";
import { waitUntil } from "../support/wait.ts";

const run = promisify(execFile);
const LAB = ownLab("labt");

async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const netns = await run("ip", ["netns", "list"]);
  if (netns.stdout.includes(`ctfi-${LAB}-`)) found.push(`namespace: ${netns.stdout.trim()}`);
  const links = await run("ip", ["-o", "link", "show"]);
  for (const line of links.stdout.split("\n")) if (line.includes(`ctfi-${LAB}`)) found.push(`link: ${line}`);
  const rules = await run("iptables-save", ["-t", "filter"]).catch(() => ({ stdout: "" }));
  for (const line of rules.stdout.split("\n")) if (line.includes(`ctfi-${LAB}`)) found.push(`rule: ${line}`);
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n"))
    if (line.includes(`/labs/${LAB}/`) || line.includes(`/ctfi-lab/${LAB}-`)) found.push(`mount: ${line}`);
  const procs = await run("pgrep", ["-af", `ctfi-lab/${LAB}-`]).catch(() => ({ stdout: "" }));
  for (const line of procs.stdout.split("\n").filter(Boolean)) found.push(`process: ${line}`);
  for (const controller of ["memory", "pids", "cpu", "devices"])
    if (existsSync(`/sys/fs/cgroup/${controller}/ctfi-${LAB}-1`)) found.push(`cgroup: ${controller}/ctfi-${LAB}-1`);
  return found;
}

describe("the engine lab (scripts/lab/engine-lab.sh)", () => {
  afterAll(() => labDown(LAB));

  it("brings up two engines on one bridge that reach each other, then leaves nothing behind", async () => {
    const engines = await labUp(LAB, 2);
    const [one, two] = engines as [LabEngine, LabEngine];
    expect(one.host).not.toBe(two.host);
    // Each has its own identity and host name, as the nodes of a swarm must.
    const [infoOne, infoTwo] = [await one.docker.info(), await two.docker.info()];
    expect([infoOne.Name, infoTwo.Name]).toEqual([`ctfi-${LAB}-1`, `ctfi-${LAB}-2`]);
    expect(infoOne.ID).not.toBe(infoTwo.ID);
    // Nothing routes out of the lab: a lookup or pull that would leave it fails at once instead of timing out.
    for (const index of [1, 2]) {
      const routes = await run("ip", ["-n", `ctfi-${LAB}-${index}`, "route", "show", "default"]);
      expect(routes.stdout.trim()).toBe("");
    }
    // Each engine is its own: a container on one is not seen by the other, nor by the suite's engine.
    for (const engine of engines) await copyImage(testEnv.challengeImage, engine);
    const served = await two.docker.createContainer({
      Image: testEnv.challengeImage,
      HostConfig: { PortBindings: { "80/tcp": [{ HostIp: two.host, HostPort: "" }] } },
      ExposedPorts: { "80/tcp": {} },
    });
    await served.start();
    const port = (await served.inspect()).NetworkSettings.Ports["80/tcp"]![0]!.HostPort;
    expect((await one.docker.listContainers()).map((c) => c.Id)).not.toContain(served.id);

    // From this host, and from a container on the other engine, across the lab bridge.
    await waitUntil("published port answers", async () => (await fetch(`http://${two.host}:${port}/`)).ok, 15_000);
    const probe = await one.docker.createContainer({
      Image: testEnv.challengeImage,
      Cmd: ["sh", "-c", `printf 'GET /team.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${two.host} ${port}`],
    });
    await probe.start();
    expect((await probe.wait()).StatusCode).toBe(0);
    const output = (await probe.logs({ stdout: true })).toString("latin1");
    expect(output).toMatch(/^.{0,8}HTTP\/1\.[01] (200|404)/m);

    // They form a real swarm: one manager, one worker, both ready.
    await one.docker.swarmInit({ ListenAddr: `${one.host}:2377`, AdvertiseAddr: one.host });
    const { JoinTokens } = await one.docker.swarmInspect();
    await two.docker.swarmJoin({
      ListenAddr: `${two.host}:2377`,
      AdvertiseAddr: two.host,
      RemoteAddrs: [`${one.host}:2377`],
      JoinToken: JoinTokens.Worker,
    });
    await waitUntil(
      "both nodes ready",
      async () => (await one.docker.listNodes()).filter((n: any) => n.Status.State === "ready").length === 2,
      30_000,
    );

    await labDown(LAB);
    expect(await leftovers()).toEqual([]);
    expect(existsSync(engines[0]!.dockerHost.slice("unix://".length))).toBe(false);
  });
});
