import { createHash, randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Db } from "../../../infra/db.ts";
import type { InstanceEndpoint, InstanceRow } from "../../../domain/instances.ts";
import { waitUntil } from "../../support/wait.ts";
import type { TestStack } from "../../support/stack.ts";

export const DOMAIN = "chals.test";
export const ROUTE_TOKEN = `route-${randomBytes(24).toString("hex")}`;

/** The API and worker settings of a stack whose gateway routes web names. */
export const ROUTING_ENV = { CHALLENGE_DOMAIN: DOMAIN, CHALLENGE_URL_SCHEME: "http", GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN };

export interface Routed {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request to the gateway for `<route>.DOMAIN` (Host header), on a fresh connection. */
export function viaGateway(
  port: number,
  route: string,
  path = "/team.txt",
  method = "GET",
  address = "127.0.0.1",
): Promise<Routed> {
  return new Promise((ok, fail) => {
    const req = request(
      { host: address, port, path, method, headers: { host: `${route}.${DOMAIN}` }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
        res.on("error", fail);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error("request timed out")));
    req.on("error", fail);
    req.end();
  });
}

/**
 * The instance's row once it runs, with its endpoints. Until the worker fills `endpoints` itself, the row's
 * address stands in for the one http exposure (served at the slug), written only onto a row still running.
 * Returns the row and when its route became known to the database.
 */
export async function runningWithEndpoints(db: Db, id: string): Promise<{ row: InstanceRow; since: number }> {
  const row = await waitUntil(
    `instance ${id} running`,
    async () => {
      const r = (await db.query<InstanceRow>("SELECT * FROM instances WHERE id = $1", [id])).rows[0];
      if (r?.state === "failed") throw new Error(`instance failed: ${r.error}`);
      return r?.state === "running" ? r : null;
    },
    60_000,
  );
  if (row.endpoints?.length) return { row, since: row.updated_at.getTime() };
  const url = new URL(row.address!);
  const endpoint: InstanceEndpoint = {
    container: "main",
    port: 80,
    protocol: "http",
    host: url.hostname,
    host_port: Number(url.port),
    upstream: url.host,
    route: row.slug,
  };
  const updated = await db.query<InstanceRow>(
    "UPDATE instances SET endpoints = $2 WHERE id = $1 AND state = 'running' AND endpoints IS NULL RETURNING *",
    [id, JSON.stringify([endpoint])],
  );
  if (!updated.rows[0]) throw new Error(`instance ${id} left running before its endpoints were written`);
  return { row: updated.rows[0], since: Date.now() };
}

/** Assigns without waiting; returns the instance id. */
export async function assignAsync(stack: TestStack, team: string, challenge = "web100"): Promise<string> {
  const res = await stack.request("POST", "/assign", {
    body: { team_id: team, challenge_id: challenge },
    headers: { prefer: "respond-async" },
  });
  if (![200, 202].includes(res.status)) throw new Error(`assign ${team}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.instance_id as string;
}

/** Adds an http endpoint at `<slug>-<n>` served by `upstream` to a running instance. */
export async function addEndpoint(db: Db, id: string, n: number, upstream: string): Promise<string> {
  const row = (await db.query<InstanceRow>("SELECT * FROM instances WHERE id = $1", [id])).rows[0]!;
  const route = `${row.slug}-${n}`;
  const [host, port] = upstream.split(":") as [string, string];
  const extra: InstanceEndpoint = {
    container: "side",
    port: Number(port),
    protocol: "http",
    host,
    host_port: Number(port),
    upstream,
    route,
  };
  await db.query("UPDATE instances SET endpoints = endpoints || $2::jsonb WHERE id = $1 AND state = 'running'", [
    id,
    JSON.stringify([extra]),
  ]);
  return route;
}

export const BIG_BYTES = 20 * 1024 * 1024;

/**
 * A Node upstream on loopback: `/big` streams 20 MB of fixed pseudo-random bytes, `/sha256` answers the digest of
 * the body it received, and a WebSocket upgrade is accepted and echoes every byte back.
 */
export class NodeUpstream {
  readonly big = randomBytes(BIG_BYTES);
  readonly bigSha = createHash("sha256").update(this.big).digest("hex");
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url === "/big") {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": this.big.length });
        res.end(this.big);
        return;
      }
      const hash = createHash("sha256");
      let bytes = 0;
      req.on("data", (d: Buffer) => {
        bytes += d.length;
        hash.update(d);
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ bytes, sha256: hash.digest("hex"), host: req.headers.host }));
      });
    });
    server.on("upgrade", (req, socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      const accept = createHash("sha1")
        .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.pipe(socket);
    });
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
    this.server = null;
  }
}

/** A masked WebSocket text frame (client to server), payload under 126 bytes. */
export function wsTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Opens a WebSocket through the gateway; resolves with the upgraded socket and the 101 answer's headers. */
export function wsConnect(
  port: number,
  route: string,
): Promise<{ socket: Socket; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((ok, fail) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/ws",
      agent: false,
      headers: {
        host: `${route}.${DOMAIN}`,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"),
      },
    });
    req.on("upgrade", (res, socket: Socket) => ok({ socket, headers: res.headers }));
    req.on("response", (res) => fail(new Error(`no upgrade: ${res.statusCode}`)));
    req.setTimeout(10_000, () => req.destroy(new Error("upgrade timed out")));
    req.on("error", fail);
    req.end();
  });
}
