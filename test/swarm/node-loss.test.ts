import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labDown, labUp, ownLab, stopEngine } from "../support/lab.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { assigned, clusterUp, eventually, taskOf, type Cluster } from "../support/cluster.ts";

const LAB = ownLab("swnl");

/** A manager and two workers: what happens to instances when a node is drained, or lost. */
describe("ENGINE=swarm when a node goes away", () => {
  let cluster: Cluster;
  let stack: TestStack;
  beforeAll(async () => {
    cluster = await clusterUp(LAB, 3);
    stack = await TestStack.start({
      docker: cluster.manager.docker,
      env: { ENGINE: "swarm", START_TIMEOUT_SECONDS: "8" },
    });
    const put = (id: string, body: object) => stack.request("PUT", `/challenges/${id}`, { body });
    await put("tiny", { image: WEB100.image, port: 80, cpus: 0.25, cpus_reserved: 0.01, memory_mb: 16 });
    for (const i of [2, 3])
      await put(`pinned${i}`, { image: WEB100.image, port: 80, placement: [`node.hostname==${cluster.hostname(i)}`] });
    // Placed by a node label the test moves: first only node 3 has it, then node 2 too, so it can move there.
    await put("mover", { image: WEB100.image, port: 80, placement: ["node.labels.ctfi-test==mover"] });
  });
  afterAll(async () => {
    await stack?.stop();
    await labDown(LAB);
  });

  const rowOf = async (id: string) =>
    (await stack.api.deps.db.query("SELECT * FROM instances WHERE id = $1", [id])).rows[0];
  const nodeIndexOf = (address: string) => cluster.nodes.findIndex((n) => address.startsWith(`http://${n.host}:`)) + 1;

  it("a drained node gets no new instance, and its instances move to another node, saying why", async () => {
    const first = await assigned(stack, "d1", "tiny");
    const from = nodeIndexOf(first.row.address);
    const to = from === 2 ? 3 : 2;
    await cluster.manager.docker.getNode(cluster.hostname(from)).update({
      ...(await nodeSpec(cluster, from)),
      Availability: "drain",
    });
    try {
      const moved = await eventually(
        () => rowOf(first.row.id),
        (r) => r.state === "running" && r.address !== first.row.address,
        30_000,
      );
      expect(nodeIndexOf(moved.address)).toBe(to);
      expect(moved.state_reason).toBe(`moved: node drained (${cluster.hostname(from)})`);
      const view = await stack.request("GET", `/instances/${first.row.id}`);
      expect(view.body.state_reason).toBe(moved.state_reason);
      const page = await fetch(`${moved.address}/team.txt`);
      expect(await page.text()).toBe("d1\n");
      for (const team of ["d2", "d3", "d4"])
        expect(nodeIndexOf((await assigned(stack, team, "tiny")).row.address)).toBe(to);
    } finally {
      await cluster.manager.docker.getNode(cluster.hostname(from)).update({
        ...(await nodeSpec(cluster, from)),
        Availability: "active",
      });
    }
  });

  it("a lost node's instances move within 30 s of it going down, or fail with 'node lost'; nothing is orphaned when it returns", async () => {
    const pinned = await assigned(stack, "p1", "pinned3");
    await labelNode(cluster, 3, "mover");
    const mover = await assigned(stack, "n1", "mover");
    expect(nodeIndexOf(mover.row.address)).toBe(3);
    await labelNode(cluster, 2, "mover");

    await stopEngine(LAB, 3);
    const down = await eventually(
      async () =>
        ((await cluster.manager.docker.getNode(cluster.hostname(3)).inspect()) as { Status: { State: string } }).Status
          .State,
      (s) => s === "down",
      60_000,
    );
    expect(down).toBe("down");
    const downAt = Date.now();

    const failed = await eventually(
      () => rowOf(pinned.row.id),
      (r) => r.state === "failed",
      30_000,
    );
    expect(failed.error).toMatch(new RegExp(`^node lost \\(${cluster.hostname(3)}\\); not moved: no node satisfies`));
    const moved = await eventually(
      () => rowOf(mover.row.id),
      (r) => r.state === "running" && nodeIndexOf(r.address) === 2,
      30_000,
    );
    expect(moved.state_reason).toBe(`moved: node lost (${cluster.hostname(3)})`);
    expect(Date.now() - downAt).toBeLessThan(30_000 + 8_000);

    // The node comes back: the tasks it still ran for removed services are cleared from it.
    const [, , back] = await labUp(LAB, 3);
    const ours = async () =>
      back!.docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${stack.deployment}`] } });
    const live = (await stack.api.deps.db.query("SELECT id, container_id FROM instances WHERE state = 'running'")).rows;
    const liveOnBack: string[] = [];
    for (const r of live) if ((await taskOf(cluster, r.container_id)).node === back) liveOnBack.push(r.container_id);
    const left = await eventually(ours, (c) => c.length === liveOnBack.length, 60_000);
    expect(left.map((c) => c.Labels[LABEL.instanceId]).sort()).toHaveLength(liveOnBack.length);
    const services = await cluster.manager.docker.listServices({
      filters: { label: [`${LABEL.deployment}=${stack.deployment}`] },
    });
    expect(services).toHaveLength(live.length);
    // Networks too: only the live instances' own, the failed one's is gone.
    const networks = await eventually(
      () => cluster.manager.docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${stack.deployment}`] } }),
      (n) => n.length === live.length,
      30_000,
    );
    expect(networks.map((n) => n.Labels![LABEL.instanceId]).sort()).toEqual(live.map((r) => r.id).sort());
  });
});

async function labelNode(cluster: Cluster, index: number, value: string) {
  const spec = (await nodeSpec(cluster, index)) as { version: number; Labels?: Record<string, string> };
  await cluster.manager.docker
    .getNode(cluster.hostname(index))
    .update({ ...spec, Labels: { ...spec.Labels, "ctfi-test": value } });
}

async function nodeSpec(cluster: Cluster, index: number) {
  const node = (await cluster.manager.docker.getNode(cluster.hostname(index)).inspect()) as {
    Version: { Index: number };
    Spec: object;
  };
  return { version: node.Version.Index, ...node.Spec };
}
