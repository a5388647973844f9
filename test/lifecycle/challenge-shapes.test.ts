import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownLab } from "../support/lab.ts";
import { engines, type EngineUnderTest } from "../support/engines.ts";
import { WEB100, type TestStack } from "../support/stack.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";
import { LABEL } from "../../worker/docker/labels.ts";
import { waitUntil } from "../support/wait.ts";

const image = WEB100.image;
// The bot fetches the web container by its name, then serves what it got: the answer proves the name resolved
// to its own instance's web container.
const BOT = [
  "sh",
  "-c",
  "mkdir -p /tmp/b && until printf 'GET /team.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web 80 > /tmp/b/got.txt && grep -q 200 /tmp/b/got.txt; do sleep 0.2; done; exec httpd -f -p 8080 -h /tmp/b",
];
const WEB_AND_BOT = {
  containers: [
    { name: "web", image },
    { name: "bot", image, command: BOT, memory_mb: 32 },
  ],
  expose: [
    { container: "bot", port: 8080, protocol: "http" },
    { container: "web", port: 80, protocol: "http" },
  ],
};
const ECHO = ["sh", "-c", "exec nc -ll -p 1337 -e /bin/cat"];

/** Sends a line over TCP and reads what comes back. */
function echo(host: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write(`${line}\n`));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
      if (got.includes("\n")) socket.end();
    });
    socket.on("end", () => resolve(got));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error("timed out")));
  });
}

describe.each(engines(ownLab("shap")))("challenges of several containers and TCP services on $name", (choice) => {
  let engine: EngineUnderTest;
  let stack: TestStack;
  beforeAll(async () => {
    engine = await choice.up();
    stack = await engine.start({ env: { CHALLENGE_DOMAIN: "chals.example.org", START_TIMEOUT_SECONDS: "20" } });
    const put = async (id: string, body: object) =>
      expect((await stack.request("PUT", `/challenges/${id}`, { body })).status).toBe(201);
    await put("duo", WEB_AND_BOT);
    await put("pwn", { image, port: 1337, protocol: "tcp", env: { PORT: "1337" } });
    await put("pwnmulti", {
      containers: [{ name: "echo", image, command: ECHO }],
      expose: [{ container: "echo", port: 1337, protocol: "tcp" }],
    });
    await put("broken", {
      containers: [
        { name: "web", image },
        { name: "crash", image, command: ["sh", "-c", "exit 3"] },
      ],
      expose: [{ container: "web", port: 80 }],
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await engine?.close();
  });
  holdAnswersToDocument(() => stack);

  const assign = async (team: string, challenge: string) => {
    const res = await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: challenge } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it("a bot container reaches the web container of its own instance by name; every exposure answers", async () => {
    const red = await assign("red", "duo");
    expect(red.endpoints).toHaveLength(2);
    const [bot, web] = red.endpoints;
    expect(bot).toMatchObject({ container: "bot", port: 8080, protocol: "http", command: null });
    expect(web).toMatchObject({ container: "web", port: 80, protocol: "http" });
    expect(red.container_address).toBe(bot.address);
    const got = await (await fetch(`${bot.address}/got.txt`)).text();
    expect(got).toMatch(/200 OK[\s\S]*\nred\n/);
    expect(await (await fetch(`${web.address}/team.txt`)).text()).toBe("red\n");
    // Web names come from the row's slug, never from the team: the second http exposure gets slug-2.
    const slug = (await stack.api.deps.db.query("SELECT slug FROM instances WHERE id = $1", [red.instance_id])).rows[0]
      .slug as string;
    expect(slug).toMatch(/^[0-9a-f]{20}$/);
    expect(bot.url).toBe(`https://${slug}.chals.example.org`);
    expect(web.url).toBe(`https://${slug}-2.chals.example.org`);
    const labels = (await engine.workloads(stack.deployment)).filter((l) => l[LABEL.instanceId] === red.instance_id);
    expect(labels.map((l) => l[LABEL.container]).sort()).toEqual(["bot", "web"]);
  });

  it("two teams' multi-container instances cannot reach each other", async () => {
    const red = await assign("red", "duo");
    const blue = await assign("blue", "duo");
    const redBot = await engine.container(red.instance_id, "bot");
    const blueWeb = await engine.container(blue.instance_id, "web");
    const get = (ip: string) => ["sh", "-c", `printf 'GET /team.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 80`];
    expect((await redBot.exec(get("web"))).out).toContain("\nred\n");
    for (const ip of blueWeb.addresses)
      expect((await redBot.exec(get(ip))).out, `red reached ${ip}`).not.toContain("blue");
  });

  it("a tcp exposure answers a paste-able nc address, single form or named container", async () => {
    for (const challenge of ["pwn", "pwnmulti"]) {
      const body = await assign("green", challenge);
      const [tcp] = body.endpoints;
      expect(tcp.protocol).toBe("tcp");
      expect(tcp.url).toBeNull();
      const { hostname, port } = new URL(tcp.address.replace(/^tcp:/, "http:"));
      expect(tcp.address).toBe(`tcp://${hostname}:${port}`);
      expect(tcp.command).toBe(`nc ${hostname} ${port}`);
      expect(body.container_address).toBe(tcp.address);
      if (challenge === "pwnmulti") expect(await echo(hostname, Number(port), "ping 42")).toBe("ping 42\n");
    }
  });

  it("a container that fails takes the whole instance with it, and nothing is left", async () => {
    const res = await stack.request("POST", "/assign", { body: { team_id: "doomed", challenge_id: "broken" } });
    // Its exit may come before every port serves (502 at once) or just after (the death watch ends it).
    expect([200, 502]).toContain(res.status);
    const ended = await waitUntil(
      "instance failed",
      async () => {
        const row = (await stack.api.deps.db.query("SELECT state, error FROM instances WHERE team_id = 'doomed'"))
          .rows[0];
        return row?.state === "failed" ? row : null;
      },
      20_000,
    );
    expect(ended.error).toMatch(/container 'crash' (exited \(exit code 3\)|task failed)/);
    const left = await waitUntil(
      "nothing left",
      async () => {
        const l = (await engine.workloads(stack.deployment)).filter((w) => w[LABEL.challengeId] === "broken");
        return l.length === 0 ? l : null;
      },
      20_000,
    );
    expect(left).toEqual([]);
  });
});
