import { createHash, randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../infra/db.ts";
import type { InstanceRow } from "../../domain/instances.ts";
import { holdAnswersToDocument } from "../api/openapi-check.ts";
import { TestStack } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { writeSelfSignedCertificate } from "./support/certificate.ts";
import { freePort, openTempDir, TestGateway } from "./support/gateway.ts";
import { rawRequest } from "./support/http.ts";
import {
  addEndpoint,
  assignAsync,
  BIG_BYTES,
  DOMAIN,
  NodeUpstream,
  ROUTE_TOKEN,
  ROUTING_ENV,
  runningWithEndpoints,
  viaGateway,
  wsConnect,
  wsTextFrame,
} from "./support/routing.ts";

describe("web names: <route>.CHALLENGE_DOMAIN through the real gateway, API, PostgreSQL and Docker", () => {
  let stack: TestStack;
  let gw: TestGateway;
  let db: Db;
  let node: NodeUpstream;
  let certDir: string;
  let wildcardPem: string;

  beforeAll(async () => {
    stack = await TestStack.start({ env: ROUTING_ENV });
    db = createDb(stack.db.url, { max: 4 });
    certDir = await openTempDir("gw-wildcard-");
    wildcardPem = await writeSelfSignedCertificate(certDir, [`wildcard.${DOMAIN}`, `*.${DOMAIN}`]);
    gw = await TestGateway.start({
      upstreamPort: Number(new URL(stack.url).port),
      tls: true,
      env: {
        CHALLENGE_DOMAIN: DOMAIN,
        GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN,
        GATEWAY_ROUTE_TLS_CERTIFICATE: join(certDir, `wildcard.${DOMAIN}`, "fullchain.pem"),
        GATEWAY_ROUTE_TLS_CERTIFICATE_KEY: join(certDir, `wildcard.${DOMAIN}`, "privkey.pem"),
      },
    });
    node = new NodeUpstream();
    await node.start();
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await gw?.stop();
    await db?.end();
    await stack?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  }, 120_000);
  // Every answer of the API in this file (assign, remove, the route lookup) is one the OpenAPI document declares.
  holdAnswersToDocument(() => stack);

  const row = async (id: string) =>
    (await db.query<InstanceRow>("SELECT * FROM instances WHERE id = $1", [id])).rows[0]!;

  it("a route answers within 1 s of the instance running, with the team's own container", async () => {
    // Five instances starting at once land at different points of a second, where a kept answer ends.
    const teams = ["team-first-0", "team-first-1", "team-first-2", "team-first-3", "team-first-4"];
    const delays = await Promise.all(
      teams.map(async (team) => {
        const id = await assignAsync(stack, team);
        const { slug } = await row(id);
        // Asked all along, so the gateway keeps a negative answer whenever it may.
        expect((await viaGateway(gw.httpPort, slug)).status).toBe(404);
        let firstServed = 0;
        let polling = true;
        const poller = (async () => {
          while (polling) {
            const res = await viaGateway(gw.httpPort, slug).catch(() => null);
            if (res?.status === 200 && !firstServed) firstServed = Date.now();
            if (firstServed) return res!;
            await new Promise((r) => setTimeout(r, 10));
          }
          return null;
        })();
        const { since } = await runningWithEndpoints(db, id);
        await waitUntil("the route answers", () => firstServed > 0, 5_000).finally(() => (polling = false));
        expect((await poller)!.body.trim()).toBe(team);
        return firstServed - since;
      }),
    );
    process.stdout.write(`routes served ${delays.join(", ")} ms after their rows had endpoints\n`);
    for (const delay of delays) expect(delay).toBeLessThan(1_000);
  }, 90_000);

  it("a removed instance stops answering within 1 s, with the 404 page", async () => {
    const id = await assignAsync(stack, "team-removed");
    const { row: running } = await runningWithEndpoints(db, id);
    expect((await viaGateway(gw.httpPort, running.slug)).body.trim()).toBe("team-removed");
    const started = Date.now();
    const removal = stack.request("POST", "/remove", {
      body: { team_id: "team-removed", challenge_id: "web100" },
      headers: { prefer: "respond-async" },
    });
    const gone = await waitUntil(
      "the route stops answering",
      async () => {
        const res = await viaGateway(gw.httpPort, running.slug);
        return res.status === 404 ? res : null;
      },
      5_000,
    );
    const stoppedAfter = Date.now() - started;
    process.stdout.write(`route answered 404 ${stoppedAfter} ms after the remove was sent\n`);
    expect((await removal).status).toBeLessThan(300);
    expect(stoppedAfter).toBeLessThan(1_000);
    expect(gone.headers["content-type"]).toMatch(/^text\/html/);
    expect(gone.body).toContain(`${running.slug}.${DOMAIN}`);
    await waitUntil("removed", async () => (await row(id)).state === "removed", 30_000);
    expect((await viaGateway(gw.httpPort, running.slug)).status).toBe(404);
  }, 90_000);

  it("an unknown name gets the 404 page; the lookup's secret and the player's headers stay out of it", async () => {
    const res = await viaGateway(gw.httpPort, "no-such-instance-0123", "/anything?x=1");
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toContain("No instance at this address");
    expect(res.body).toContain(`<code>no-such-instance-0123.${DOMAIN}</code>`);
    expect(res.body).not.toContain(ROUTE_TOKEN);
    // A name that is not one DNS label under the domain is the API's, as before.
    const api = await viaGatewayHost(gw.httpPort, "healthz-host.example.org", "/healthz");
    expect(api.status).toBe(200);
  });

  it("a lookup that fails (API unreachable, or the secret refused) gives the maintenance page, never a 401", async () => {
    const id = await assignAsync(stack, "team-lookup-fails");
    const { row: r } = await runningWithEndpoints(db, id);
    const dead = await TestGateway.start({
      upstreamPort: await freePort(),
      env: { CHALLENGE_DOMAIN: DOMAIN, GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN },
    });
    const refused = await TestGateway.start({
      upstreamPort: Number(new URL(stack.url).port),
      env: { CHALLENGE_DOMAIN: DOMAIN, GATEWAY_ROUTE_TOKEN: `${ROUTE_TOKEN}-not-the-api-one` },
    });
    try {
      for (const port of [dead.httpPort, refused.httpPort]) {
        const res = await viaGateway(port, r.slug);
        expect(res.status).toBe(503);
        expect(res.headers["content-type"]).toMatch(/^text\/html/);
        expect(res.headers["retry-after"]).toBe("30");
        expect(res.body).not.toContain("team-lookup-fails");
      }
      // The same name through the right gateway is served, so the failures above are the lookup's.
      expect((await viaGateway(gw.httpPort, r.slug)).body.trim()).toBe("team-lookup-fails");
    } finally {
      await dead.stop();
      await refused.stop();
    }
  }, 90_000);

  it("the lookup endpoint answers only the gateway's secret, in the OpenAPI document's shapes", async () => {
    const id = await assignAsync(stack, "team-lookup");
    const { row: r } = await runningWithEndpoints(db, id);
    const ask = (route: string, token?: string | null) =>
      stack.request("GET", `/routes/${route}`, {
        token: null,
        headers: token === null ? {} : { "x-gateway-token": token ?? ROUTE_TOKEN },
      });
    const found = await ask(r.slug);
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ route: r.slug, instance_id: id, upstream: r.endpoints![0]!.upstream });
    expect(found.headers.get("x-route-upstream")).toBe(r.endpoints![0]!.upstream);
    expect(found.headers.get("cache-control")).toBe("no-store");
    expect((await ask("nothere0000")).status).toBe(404);
    expect((await ask("Bad_Label")).status).toBe(400);
    for (const token of [null, "", "x".repeat(40), ROUTE_TOKEN.slice(0, -1), `${ROUTE_TOKEN}x`]) {
      const refused = await ask(r.slug, token);
      expect(refused.status, String(token)).toBe(401);
      expect(refused.body.error.code).toBe("unauthorized");
      expect(JSON.stringify(refused.body)).not.toContain(r.endpoints![0]!.upstream);
    }
    // An API bearer token is not the gateway's secret.
    expect((await stack.request("GET", `/routes/${r.slug}`)).status).toBe(401);
  }, 90_000);

  it("20 instances at once, with removes and reassigns racing: a name never answers with another team's content", async () => {
    const teams = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const ids = await Promise.all(teams.map((t) => assignAsync(stack, t)));
    const rows = await Promise.all(ids.map((id) => runningWithEndpoints(db, id).then((x) => x.row)));
    const routeTeam = new Map(rows.map((r) => [r.slug, r.team_id]));
    expect(new Set(rows.map((r) => r.slug)).size).toBe(20);
    for (const r of rows) {
      expect(r.slug).not.toContain(r.team_id);
      expect(r.slug.length).toBeGreaterThanOrEqual(16);
    }
    await Promise.all(
      rows.map(async (r) => expect((await viaGateway(gw.httpPort, r.slug)).body.trim()).toBe(r.team_id)),
    );

    // Hammer every name while half the teams remove and (the same team, or a new team) assign again.
    const wrong: string[] = [];
    const tally: Record<number, number> = {};
    let hammering = true;
    const hammer = (async () => {
      while (hammering) {
        await Promise.all(
          [...routeTeam].map(async ([route, team]) => {
            const res = await viaGateway(gw.httpPort, route).catch(() => null);
            if (!res) return;
            tally[res.status] = (tally[res.status] ?? 0) + 1;
            if (res.status === 200 && res.body.trim() !== team) wrong.push(`${route} (${team}) → ${res.body.trim()}`);
          }),
        );
      }
    })();
    const churned = await Promise.all(
      rows.slice(0, 10).map(async (r, i) => {
        const removed = await stack.request("POST", "/remove", {
          body: { team_id: r.team_id, challenge_id: "web100" },
        });
        expect(removed.status, JSON.stringify(removed.body)).toBe(200);
        // Even teams take the challenge again; odd ones leave room for a new team (a freed port may be reused).
        const team = i % 2 === 0 ? r.team_id : `newcomer-${i}`;
        const again = await runningWithEndpoints(db, await assignAsync(stack, team)).then((x) => x.row);
        routeTeam.set(again.slug, again.team_id);
        return { old: r, again };
      }),
    );
    // A few more rounds over the new names too.
    const rounds = (tally[200] ?? 0) + 20 * 5;
    await waitUntil("more rounds", () => (tally[200] ?? 0) >= rounds, 30_000);
    hammering = false;
    await hammer;

    process.stdout.write(`race: statuses ${JSON.stringify(tally)}, wrong team ${wrong.length}\n`);
    expect(wrong).toEqual([]);
    for (const { old, again } of churned) {
      expect(again.slug).not.toBe(old.slug);
      expect(again.id).not.toBe(old.id);
      expect((await viaGateway(gw.httpPort, old.slug)).status).toBe(404);
      expect((await viaGateway(gw.httpPort, again.slug)).body.trim()).toBe(again.team_id);
    }
    for (const r of rows.slice(10)) expect((await viaGateway(gw.httpPort, r.slug)).body.trim()).toBe(r.team_id);
    // Only what the race allows: the team's own answer, or the 404 page once it left running.
    expect(Object.keys(tally).sort()).toEqual(expect.arrayContaining(["200"]));
    for (const status of Object.keys(tally)) expect(["200", "404", "502"]).toContain(status);
  }, 240_000);

  it("over TLS with the operator's wildcard certificate, the name is served the same way", async () => {
    const id = await assignAsync(stack, "team-tls");
    const { row: r } = await runningWithEndpoints(db, id);
    const name = `${r.slug}.${DOMAIN}`;
    const res = await rawRequest({
      port: gw.tlsPort,
      path: "/team.txt",
      headers: { host: name },
      tls: { servername: name, ca: wildcardPem },
    });
    expect(res.status).toBe(200);
    expect(res.body.trim()).toBe("team-tls");
    const unknown = await rawRequest({
      port: gw.tlsPort,
      path: "/",
      headers: { host: `gone0000.${DOMAIN}` },
      tls: { servername: `gone0000.${DOMAIN}`, ca: wildcardPem },
    });
    expect(unknown.status).toBe(404);
  }, 90_000);

  it("a WebSocket upgrade passes, and bytes flow both ways", async () => {
    const id = await assignAsync(stack, "team-ws");
    await runningWithEndpoints(db, id);
    const route = await addEndpoint(db, id, 2, `127.0.0.1:${node.port}`);
    const { socket } = await wsConnect(gw.httpPort, route);
    try {
      for (const text of ["hello", "through the gateway", "x".repeat(100)]) {
        const frame = wsTextFrame(text);
        const echoed = new Promise<Buffer>((ok) => {
          let got = Buffer.alloc(0);
          const onData = (d: Buffer) => {
            got = Buffer.concat([got, d]);
            if (got.length >= frame.length) {
              socket.off("data", onData);
              ok(got);
            }
          };
          socket.on("data", onData);
        });
        socket.write(frame);
        expect((await echoed).equals(frame)).toBe(true);
      }
    } finally {
      socket.destroy();
    }
  }, 90_000);

  it("a 20 MB response and a 5 MB upload pass intact", async () => {
    const id = await assignAsync(stack, "team-big");
    await runningWithEndpoints(db, id);
    const route = await addEndpoint(db, id, 3, `127.0.0.1:${node.port}`);
    const body = await getBuffer(gw.httpPort, route, "/big");
    expect(body.length).toBe(BIG_BYTES);
    expect(createHash("sha256").update(body).digest("hex")).toBe(node.bigSha);

    // An upstream named by the gateway's hosts file (as Compose's host.docker.internal is) is reached too.
    const named = await addEndpoint(db, id, 4, `localhost:${node.port}`);
    const viaName = await postBuffer(gw.httpPort, named, "/sha256", Buffer.from("named"));
    expect(JSON.parse(viaName.body)).toMatchObject({ bytes: 5, host: `${named}.${DOMAIN}` });

    const upload = randomBytes(5 * 1024 * 1024);
    const res = await postBuffer(gw.httpPort, route, "/sha256", upload);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      bytes: upload.length,
      sha256: createHash("sha256").update(upload).digest("hex"),
      host: `${route}.${DOMAIN}`,
    });
  }, 90_000);
});

function viaGatewayHost(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

function getBuffer(port: number, route: string, path: string): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const req = request(
      { host: "127.0.0.1", port, path, headers: { host: `${route}.${DOMAIN}` }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          res.statusCode === 200 ? ok(Buffer.concat(chunks)) : fail(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on("error", fail);
    req.end();
  });
}

function postBuffer(
  port: number,
  route: string,
  path: string,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { host: `${route}.${DOMAIN}`, "content-length": body.length },
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => ok({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}
