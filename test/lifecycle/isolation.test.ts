import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, execIn } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";

const exec = (containerId: string, cmd: string[]) => execIn(docker, containerId, cmd);

async function inspectInstance(stack: TestStack, team: string, challenge: string) {
  const res = await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: challenge } });
  expect(res.status).toBe(200);
  const row = await stack.api.deps.db.query("SELECT container_id FROM instances WHERE id = $1", [res.body.instance_id]);
  return docker.getContainer(row.rows[0].container_id).inspect();
}

describe("isolation and hardening by default", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start();
    await stack.request("PUT", "/challenges/locked", {
      body: { image: WEB100.image, port: 80, read_only: true, cap_add: ["NET_BIND_SERVICE"], pids_limit: 50 },
    });
    await stack.request("PUT", "/challenges/online", { body: { image: WEB100.image, port: 80, egress: true } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("each instance runs hardened on its own network without masquerading (no egress)", async () => {
    const info = await inspectInstance(stack, "alpha", "locked");
    const hc = info.HostConfig;
    expect(hc.Memory).toBe(256 * 1024 * 1024);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect(hc.NanoCpus).toBe(0.5e9);
    expect(hc.PidsLimit).toBe(50);
    expect(hc.CapDrop).toEqual(["ALL"]);
    expect(hc.CapAdd).toEqual(["NET_BIND_SERVICE"]);
    expect(hc.SecurityOpt).toContain("no-new-privileges:true");
    expect(hc.Init).toBe(true);
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.Tmpfs).toHaveProperty("/tmp");
    expect(hc.LogConfig).toMatchObject({ Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } });
    expect(hc.PortBindings["80/tcp"][0].HostIp).toBe(testEnv.engineHost);
    const networks = Object.keys(info.NetworkSettings.Networks);
    expect(networks).toEqual([hc.NetworkMode]);
    const net = await docker.getNetwork(hc.NetworkMode!).inspect();
    expect(net.Options?.["com.docker.network.bridge.enable_ip_masquerade"]).toBe("false");
    const write = await exec(info.Id, ["sh", "-c", "echo x > /www/x"]);
    expect(write.code).not.toBe(0);
  });

  it("egress is an opt-in per challenge", async () => {
    const info = await inspectInstance(stack, "alpha", "online");
    const net = await docker.getNetwork(info.HostConfig.NetworkMode!).inspect();
    expect(net.Options?.["com.docker.network.bridge.enable_ip_masquerade"]).toBe("true");
  });

  it("one team cannot reach another team's container", async () => {
    const a = await inspectInstance(stack, "red", "web100");
    const b = await inspectInstance(stack, "blue", "web100");
    const ipOf = (i: typeof a) => Object.values(i.NetworkSettings.Networks)[0]!.IPAddress;
    expect(a.HostConfig.NetworkMode).not.toBe(b.HostConfig.NetworkMode);
    // BusyBox's static wget cannot resolve users here; nc speaks the HTTP request itself.
    const get = (ip: string) => ["sh", "-c", `printf 'GET /team.txt HTTP/1.0\r\n\r\n' | nc -w 3 ${ip} 80`];
    const own = await exec(a.Id, get(ipOf(a)));
    expect(own.code).toBe(0);
    expect(own.out).toMatch(/200 OK[\s\S]*\nred\n/);
    const other = await exec(a.Id, get(ipOf(b)));
    expect(other.out).not.toContain("200 OK");
    expect(other.out).not.toContain("blue");
  });

  it("capabilities outside the allow-list are refused when the challenge is saved", async () => {
    const res = await stack.request("PUT", "/challenges/rooty", {
      body: { image: WEB100.image, port: 80, cap_add: ["SYS_ADMIN"] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/SYS_ADMIN not in ALLOWED_CAPABILITIES/);
  });
});
