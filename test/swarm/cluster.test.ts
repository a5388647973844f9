import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Docker from "dockerode";
import { labDown, ownLab } from "../support/lab.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";
import { loadWorkerConfig } from "../../infra/config.ts";
import { createEngine } from "../../worker/engine/create.ts";
import { createLogger } from "../../infra/logger.ts";
import { StartPoller } from "../../worker/swarm/start-poller.ts";
import { sharedBridgeName } from "../../worker/swarm/shared-bridge.ts";
import { testEnv } from "../support/env.ts";
import { TestGateway } from "../gateway/support/gateway.ts";
import { ROUTE_TOKEN, ROUTING_ENV, viaGateway } from "../gateway/support/routing.ts";
import {
  assigned,
  clusterUp,
  containerOf,
  eventually,
  leftovers,
  SHARED_BRIDGE_CONFIG,
  taskOf,
  type Cluster,
} from "../support/cluster.ts";

const LAB = ownLab("swrm");
const EGRESS_NODE = 4;

describe("ENGINE=swarm on a cluster of a manager and three workers", () => {
  let cluster: Cluster;
  let stack: TestStack;
  let gateway: TestGateway;
  beforeAll(async () => {
    cluster = await clusterUp(LAB, 4, EGRESS_NODE);
    stack = await TestStack.start({
      docker: cluster.manager.docker,
      env: {
        ENGINE: "swarm",
        SWARM_SHARED_BRIDGE: SHARED_BRIDGE_CONFIG,
        ALLOWED_CAPABILITIES: "NET_BIND_SERVICE,NET_RAW",
        START_TIMEOUT_SECONDS: "8",
        TEAM_MAX_INSTANCES: "2",
        ...ROUTING_ENV,
      },
    });
    gateway = await TestGateway.start({
      upstreamPort: Number(new URL(stack.url).port),
      env: { CHALLENGE_DOMAIN: ROUTING_ENV.CHALLENGE_DOMAIN, GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN },
    });
    const put = (id: string, body: object) => stack.request("PUT", `/challenges/${id}`, { body });
    await put("locked", {
      image: WEB100.image,
      port: 80,
      read_only: true,
      cap_add: ["NET_BIND_SERVICE"],
      pids_limit: 50,
    });
    await put("online", { image: WEB100.image, port: 80, egress: true });
    await put("on2", { image: WEB100.image, port: 80, placement: [`node.hostname==${cluster.hostname(2)}`] });
    await put("on3", { image: WEB100.image, port: 80, placement: [`node.hostname == ${cluster.hostname(3)}`] });
    await put("raw2", {
      image: WEB100.image,
      port: 80,
      cap_add: ["NET_RAW"],
      placement: [`node.hostname==${cluster.hostname(2)}`],
    });
    await put("nowhere", { image: WEB100.image, port: 80, placement: ["node.labels.tier==gpu"] });
    await put("ghost", { image: "ctf-instancer/not-on-any-node:1", port: 80 });
    await put("short", { image: WEB100.image, port: 80, ttl_seconds: 5 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await stack?.stop();
    await labDown(LAB);
  });
  holdAnswersToDocument(() => stack);

  it("assign gives a service on a worker node, answering at that node's address; remove leaves nothing", async () => {
    const { answer, row } = await assigned(stack, "alpha", "web100");
    const { task, node } = await taskOf(cluster, row.container_id);
    expect(task.Status.State).toBe("running");
    expect(node).not.toBe(cluster.manager); // drained
    expect(answer.container_address).toBe(`http://${node.host}:${row.host_port}`);
    const page = await fetch(`${answer.container_address}/team.txt`);
    expect(await page.text()).toBe("alpha\n");

    // Its web name leads the gateway to the node that runs it, and the gateway serves it from there.
    const route = new URL(answer.endpoints[0].url).hostname.split(".")[0]!;
    const lookup = await stack.request("GET", `/routes/${route}`, {
      token: null,
      headers: { "x-gateway-token": ROUTE_TOKEN },
    });
    expect(lookup.body.upstream).toBe(`${node.host}:${row.host_port}`);
    expect((await viaGateway(gateway.httpPort, route)).body).toBe("alpha\n");

    const removed = await stack.request("POST", "/remove", { body: { team_id: "alpha", challenge_id: "web100" } });
    expect(removed.status).toBe(200);
    const left = await eventually(
      () => leftovers(cluster, stack.deployment),
      (l) => l.length === 0,
      30_000,
    );
    expect(left).toEqual([]);
  });

  it("each service is hardened and reserves what it may use, so Swarm places by free capacity", async () => {
    const { row } = await assigned(stack, "alpha", "locked");
    const service = await cluster.manager.docker.getService(row.container_id).inspect();
    const spec = service.Spec.TaskTemplate;
    expect(spec.Resources).toEqual({
      Limits: { NanoCPUs: 0.5e9, MemoryBytes: 256 * 1024 * 1024, Pids: 50 },
      Reservations: { NanoCPUs: 0.5e9, MemoryBytes: 256 * 1024 * 1024 },
    });
    expect(spec.RestartPolicy.Condition).toBe("none");
    expect(service.Spec.EndpointSpec.Ports).toEqual([
      expect.objectContaining({ TargetPort: 80, PublishMode: "host", Protocol: "tcp" }),
    ]);
    const { info, exec } = await containerOf(cluster, row.container_id);
    const hc = info.HostConfig;
    expect(hc.Memory).toBe(256 * 1024 * 1024);
    expect(hc.NanoCpus).toBe(0.5e9);
    expect(hc.PidsLimit).toBe(50);
    expect(hc.CapDrop).toEqual(["ALL"]);
    expect(hc.CapAdd).toEqual(["NET_BIND_SERVICE"]);
    expect(hc.Init).toBe(true);
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.LogConfig).toMatchObject({ Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } });
    expect(info.Config.Labels["org.ctf-instancer.team-id"]).toBe("alpha");
    expect((await exec(["sh", "-c", "echo x > /www/x"])).code).not.toBe(0);
    expect((await exec(["sh", "-c", "echo x > /tmp/x"])).code).toBe(0);
    // Only NET_BIND_SERVICE (bit 10) is left in the bounding set.
    expect((await exec(["sh", "-c", "grep CapBnd /proc/self/status"])).out).toMatch(/CapBnd:\s+0+400\b/);
  });

  it("teams cannot reach each other on one node or across nodes; only an egress challenge reaches beyond its node", async () => {
    const red = await assigned(stack, "red", "on2");
    const blue = await assigned(stack, "blue", "on3");
    const neighbour = await assigned(stack, "blue", "on2");
    // NET_RAW could forge frames on a shared bridge: such an instance gets an overlay of its own.
    const raw = await assigned(stack, "green", "raw2");
    const r = await containerOf(cluster, red.row.container_id);
    const b = await containerOf(cluster, blue.row.container_id);
    const n = await containerOf(cluster, neighbour.row.container_id);
    const g = await containerOf(cluster, raw.row.container_id);
    expect([r.node, n.node, g.node]).toEqual([cluster.nodes[1], cluster.nodes[1], cluster.nodes[1]]);
    expect(b.node).toBe(cluster.nodes[2]);
    const shared = sharedBridgeName(SHARED_BRIDGE_CONFIG);
    for (const one of [r, b, n]) expect(Object.keys(one.info.NetworkSettings.Networks)).toEqual([shared]);
    expect(Object.keys(g.info.NetworkSettings.Networks)).toEqual([`ctfi-${stack.deployment}-${raw.row.id}`]);
    const addressesOf = (info: typeof b.info) => Object.values(info.NetworkSettings.Networks).map((n) => n.IPAddress);
    // BusyBox's static wget cannot resolve users here; nc speaks the HTTP request itself.
    const get = (ip: string) => ["sh", "-c", `printf 'GET /team.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 80`];
    const own = await r.exec(get(addressesOf(r.info)[0]!));
    expect(own.out).toMatch(/200 OK[\s\S]*\nred\n/);
    // Each node's shared bridge has the same subnet: another node's address may be a container of this node, or
    // this one itself. Whatever answers at another team's address must be nobody, or the asking team's own.
    for (const [from, team, to] of [
      [r, "red", [b, n, g]],
      [g, "green", [r]],
    ] as const)
      for (const ip of to.flatMap((t) => addressesOf(t.info))) {
        const body = (await from.exec(get(ip))).out.split("\r\n\r\n")[1];
        expect([undefined, `${team}\n`], `${team} reached another team at ${ip}`).toContain(body);
      }
    // No IPv6 on the shared bridge either, where icc=false would not filter it on this engine.
    const inet6 = ["sh", "-c", "grep -v ' lo$' /proc/net/if_inet6 || true"];
    for (const one of [r, n]) expect((await one.exec(inet6)).out.trim()).toBe("");
    // The lab's host (its bridge address, where the build proxy listens) stands for the world beyond a node.
    const beyond = ["sh", "-c", `nc -w 3 ${cluster.manager.labHost} 3128 </dev/null && echo reached`];
    expect((await r.exec(beyond)).out).not.toContain("reached");
    expect((await g.exec(beyond)).out).not.toContain("reached");
    const online = await assigned(stack, "red", "online");
    const o = await containerOf(cluster, online.row.container_id);
    expect(o.node).toBe(cluster.nodes[EGRESS_NODE - 1]);
    expect(Object.keys(o.info.NetworkSettings.Networks)).toEqual([shared]);
    expect((await o.exec(beyond)).out).toContain("reached");
    await stack.request("POST", "/remove", { body: { team_id: "red", challenge_id: "online" } });
    await stack.request("POST", "/remove", { body: { team_id: "green", challenge_id: "raw2" } });
  });

  it("concurrent assigns of one team's challenge make one service; the team quota holds", async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        stack.request("POST", "/assign", { body: { team_id: "race", challenge_id: "web100" } }),
      ),
    );
    expect(new Set(answers.map((a) => a.body.instance_id)).size).toBe(1);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const services = await cluster.manager.docker.listServices({
      filters: { label: [`org.ctf-instancer.deployment=${stack.deployment}`, "org.ctf-instancer.team-id=race"] },
    });
    expect(services).toHaveLength(1);
    await assigned(stack, "race", "locked");
    const third = await stack.request("POST", "/assign", { body: { team_id: "race", challenge_id: "on2" } });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("team_quota_exceeded");
  });

  it("an expired instance's service and network go", async () => {
    const { row } = await assigned(stack, "late", "short");
    const gone = await eventually(
      async () =>
        (await stack.api.deps.db.query("SELECT state, state_reason FROM instances WHERE id = $1", [row.id])).rows[0],
      (r) => r.state === "removed",
      30_000,
    );
    expect(gone).toEqual({ state: "removed", state_reason: "expired" });
    const services = async () =>
      cluster.manager.docker.listServices({ filters: { label: [`org.ctf-instancer.instance-id=${row.id}`] } });
    expect(await eventually(services, (s) => s.length === 0, 15_000)).toEqual([]);
  });

  it("an image no node has fails the instance at once, with that reason", async () => {
    const started = Date.now();
    const res = await stack.request("POST", "/assign", { body: { team_id: "img", challenge_id: "ghost" } });
    expect(res.status).toBe(502);
    expect(res.body.error.message).toMatch(/image 'ctf-instancer\/not-on-any-node:1' is not available on node/);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("a placement no node satisfies fails within START_TIMEOUT_SECONDS, saying so; bad constraints are refused", async () => {
    const started = Date.now();
    const res = await stack.request("POST", "/assign", { body: { team_id: "gpu", challenge_id: "nowhere" } });
    expect(res.body.error?.message ?? "").toMatch(/no node satisfies .*scheduling constraints not satisfied/);
    expect(Date.now() - started).toBeLessThan(8_000 + 5_000);
    const bad = await stack.request("PUT", "/challenges/badplace", {
      body: { image: WEB100.image, port: 80, placement: ["node.labels.tier=pwn"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/placement/);
    const greedy = await stack.request("PUT", "/challenges/greedy", {
      body: { image: WEB100.image, port: 80, cpus: 0.5, cpus_reserved: 1 },
    });
    expect(greedy.status).toBe(400);
    expect(greedy.body.error.message).toMatch(/cpus_reserved: 1 is more than cpus \(0.5\)/);
  });

  it("a 60-team burst spreads over the nodes, with no port collision, no duplicate and no orphan", async () => {
    // Its own stack: 60 starts at once on two small nodes take longer than the 8 s the tests above allow.
    const burst = await TestStack.start({
      docker: cluster.manager.docker,
      env: { ENGINE: "swarm", START_TIMEOUT_SECONDS: "120" },
    });
    try {
      await burstOf60(burst);
    } finally {
      await burst.stop();
    }
  }, 300_000);

  async function burstOf60(stack: TestStack): Promise<void> {
    await stack.request("PUT", "/challenges/tiny", {
      body: { image: WEB100.image, port: 80, cpus: 0.25, cpus_reserved: 0.01, memory_mb: 16 },
    });
    const teams = Array.from({ length: 60 }, (_, i) => `burst${i}`);
    const answers = await Promise.all(
      teams.map((team) =>
        stack.request("POST", "/assign", {
          body: { team_id: team, challenge_id: "tiny" },
          headers: { prefer: "respond-async" },
        }),
      ),
    );
    expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
    const rows = await eventually(
      async () =>
        (
          await stack.api.deps.db.query(
            "SELECT * FROM instances WHERE challenge_id = 'tiny' AND state NOT IN ('removed')",
          )
        ).rows,
      (r) => r.length === 60 && r.every((x) => x.state === "running" || x.state === "failed"),
      180_000,
    );
    expect(rows.filter((r) => r.state !== "running").map((r) => r.error)).toEqual([]);
    expect(new Set(rows.map((r) => r.team_id)).size).toBe(60);
    expect(new Set(rows.map((r) => r.address)).size).toBe(60);
    const perNode = new Map<string, number>();
    for (const r of rows) perNode.set(new URL(r.address).hostname, (perNode.get(new URL(r.address).hostname) ?? 0) + 1);
    // The drained manager and the egress node take none; the two others within ±25% of the mean.
    expect([...perNode.keys()].sort()).toEqual([cluster.nodes[1]!.host, cluster.nodes[2]!.host].sort());
    for (const count of perNode.values()) expect(Math.abs(count - 30)).toBeLessThanOrEqual(7.5);
    const services = await cluster.manager.docker.listServices({
      filters: { label: [`org.ctf-instancer.deployment=${stack.deployment}`, "org.ctf-instancer.challenge-id=tiny"] },
    });
    expect(services).toHaveLength(60);
    // 60 × 0.25 CPU would not fit two 2-CPU nodes: only the reservation counts for placement.
    expect(services[0]!.Spec!.TaskTemplate!.Resources).toEqual({
      Limits: { NanoCPUs: 0.25e9, MemoryBytes: 16 * 1024 * 1024, Pids: 128 },
      Reservations: { NanoCPUs: 0.01e9, MemoryBytes: 16 * 1024 * 1024 },
    });

    await Promise.all(
      teams.map((team) =>
        stack
          .request("POST", "/remove", { body: { team_id: team, challenge_id: "tiny" } })
          .then((r) => expect(r.status).toBeLessThan(300)),
      ),
    );
    const left = await eventually(
      () => leftovers(cluster, stack.deployment, ["org.ctf-instancer.challenge-id=tiny"]),
      (l) => l.length === 0,
      60_000,
    );
    expect(left).toEqual([]);
  }

  it("setup errors stop the worker's start, naming the problem", async () => {
    const env = stack.env();
    expect(() => loadWorkerConfig({ ...env, ENGINE: "kubernetes" })).toThrow(/ENGINE: must be docker or swarm/);
    const logger = createLogger("worker", "silent");
    const swarmConfig = loadWorkerConfig({ ...env, ENGINE: "swarm" });
    // The suite's own engine is in no swarm; a worker node is no manager.
    await expect(createEngine(swarmConfig, logger, new Docker({ socketPath: testEnv.dockerSocket }))).rejects.toThrow(
      /not in a swarm/,
    );
    await expect(createEngine(swarmConfig, logger, cluster.nodes[1]!.docker)).rejects.toThrow(/not a manager/);
    // A restarted worker finds the shared bridge its deployment made before.
    const again = loadWorkerConfig({ ...env, ENGINE: "swarm", SWARM_SHARED_BRIDGE: SHARED_BRIDGE_CONFIG });
    await expect(createEngine(again, logger, cluster.manager.docker)).resolves.toBeDefined();
    const named = sharedBridgeName(SHARED_BRIDGE_CONFIG);
    const found = await cluster.manager.docker.listNetworks({ filters: { name: [named] } });
    expect(found.filter((n) => n.Name === named)).toHaveLength(1);
    const bridged = loadWorkerConfig({ ...env, ENGINE: "swarm", SWARM_SHARED_BRIDGE: "no-such-config" });
    await expect(createEngine(bridged, logger, cluster.manager.docker)).rejects.toThrow(
      /SWARM_SHARED_BRIDGE names 'no-such-config', but the manager has no config-only network/,
    );
    expect(() => loadWorkerConfig({ ...env, SWARM_SHARED_BRIDGE: "-bad name" })).toThrow(/SWARM_SHARED_BRIDGE/);
  });

  it("a service removed while it starts fails only its own start, not the others looked at with it", async () => {
    const manager = cluster.manager.docker;
    const make = async (name: string) =>
      (
        await manager.createService(undefined as unknown as Docker.AuthConfig, {
          Name: `${stack.deployment}-${name}`,
          Labels: { "org.ctf-instancer.deployment": stack.deployment },
          TaskTemplate: { ContainerSpec: { Image: WEB100.image }, RestartPolicy: { Condition: "none" } },
          Mode: { Replicated: { Replicas: 1 } },
        })
      ).id;
    const [kept, removed] = [await make("kept"), await make("removed")];
    const poller = new StartPoller(manager);
    const first = await Promise.all([poller.next(kept), poller.next(removed)]);
    expect(first.map((l) => l.task?.ServiceID)).toEqual([kept, removed]);
    await manager.getService(removed).remove();
    const [keptLook, removedLook] = await Promise.allSettled([poller.next(kept), poller.next(removed)]);
    expect(keptLook).toMatchObject({ status: "fulfilled", value: { task: { ServiceID: kept } } });
    expect(removedLook).toMatchObject({
      status: "rejected",
      reason: { name: "PermanentStartError", message: "the service was removed while it started" },
    });
    await manager.getService(kept).remove();
  });

  it("a shared bridge removed under a running worker (a network prune) is made again at the next start", async () => {
    // A config of its own, so its network can go while the other tests' instances hold theirs.
    for (const node of cluster.nodes)
      await node.docker.createNetwork({
        Name: "ctfi-prune",
        ConfigOnly: true,
        IPAM: { Config: [{ Subnet: "10.216.0.0/24" }] },
        Options: { "com.docker.network.bridge.enable_icc": "false" },
      } as Docker.NetworkCreateOptions);
    const pruned = await TestStack.start({
      docker: cluster.manager.docker,
      env: { ENGINE: "swarm", SWARM_SHARED_BRIDGE: "ctfi-prune", START_TIMEOUT_SECONDS: "8" },
    });
    try {
      const network = sharedBridgeName("ctfi-prune");
      await cluster.manager.docker.getNetwork(network).remove();
      const res = await pruned.request("POST", "/assign", { body: { team_id: "prune", challenge_id: "web100" } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const row = (await pruned.api.deps.db.query("SELECT container_id FROM instances WHERE team_id = 'prune'"))
        .rows[0];
      const { info } = await containerOf(cluster, row.container_id);
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network]);
      await pruned.request("POST", "/remove", { body: { team_id: "prune", challenge_id: "web100" } });
    } finally {
      await pruned.stop();
    }
  });

  it("a node without the shared bridge's config refuses the task: the instance fails at once, naming the node and the setting", async () => {
    await cluster.manager.docker.createNetwork({
      Name: "ctfi-mgronly",
      ConfigOnly: true,
    } as Docker.NetworkCreateOptions);
    const unprepared = await TestStack.start({
      docker: cluster.manager.docker,
      env: { ENGINE: "swarm", SWARM_SHARED_BRIDGE: "ctfi-mgronly", START_TIMEOUT_SECONDS: "8" },
    });
    try {
      const started = Date.now();
      const res = await unprepared.request("POST", "/assign", { body: { team_id: "bare", challenge_id: "web100" } });
      expect(res.status).toBe(502);
      expect(res.body.error.message).toMatch(
        /node ctfi-.+-[234] has no config-only network 'ctfi-mgronly' \(SWARM_SHARED_BRIDGE\)/,
      );
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await unprepared.stop();
    }
  });
});
