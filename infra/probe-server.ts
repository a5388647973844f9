// The small HTTP server each background process (worker, backup, restore) answers probes and scrapes on.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface ProbeAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Path → answer. Only GET is served; anything else, and any other path, is 404. */
export type ProbeRoutes = Record<string, () => ProbeAnswer | Promise<ProbeAnswer>>;

/** Prometheus text of a registry. */
export function metricsRoute(registry: Registry): () => Promise<ProbeAnswer> {
  return async () => ({ status: 200, contentType: registry.contentType, body: await registry.metrics() });
}

/**
 * Listens on `host:port` (port 0: any free one). It has no auth, so callers listen only where asked: challenge
 * containers reach every host address listening on all interfaces through their bridge gateway.
 */
export async function serveProbes(
  routes: ProbeRoutes,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const route = req.method === "GET" ? routes[req.url ?? ""] : undefined;
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (answer) => res.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.body),
        () => res.writeHead(500).end(),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
