import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  requestId: string | undefined;
  forwardedFor: string | undefined;
  bodyBytes: number;
}

/**
 * A stand-in for the API, closed and reopened on the same port to play "API down / back".
 * `unavailable` answers like the API with its database down: 503 and the error envelope.
 */
export class StubUpstream {
  port = 0;
  /** Where it listens: loopback, or the lab's host address for a gateway running in the suite's engine. */
  readonly host: string;
  constructor(host = "127.0.0.1") {
    this.host = host;
  }

  mode: "ok" | "unavailable" = "ok";
  readonly seen: SeenRequest[] = [];
  private server: Server | null = null;

  get running(): boolean {
    return this.server !== null;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(this.port, this.host, () => ok());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Like a killed process: listening stops and open connections are cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((ok) => server.close(() => ok()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let bodyBytes = 0;
    for await (const chunk of req) bodyBytes += (chunk as Buffer).length;
    const requestId = header(req, "x-request-id");
    const path = req.url ?? "/";
    this.seen.push({
      method: req.method ?? "",
      path,
      requestId,
      forwardedFor: header(req, "x-forwarded-for"),
      bodyBytes,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "x-request-id": requestId ?? "none" });
      res.end(JSON.stringify(body));
    };
    if (this.mode === "unavailable" && path !== "/healthz")
      return send(503, {
        error: { code: "service_unavailable", message: "a backing service is unavailable", requestId },
      });
    const auth = header(req, "authorization");
    if (auth !== undefined && auth !== "Bearer good-token")
      return send(401, { error: { code: "unauthorized", message: "bad token", requestId } });
    if (path.startsWith("/missing")) return send(404, { error: { code: "not_found", message: "no", requestId } });
    send(200, { upstream: true, method: req.method, path, requestId, bodyBytes });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
