import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** HTTPS: SHA-256 fingerprint of the certificate the server presented. */
  fingerprint?: string;
}

export interface RawRequest {
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  /** HTTPS: the name sent in SNI and checked against the certificate, and the CA to trust (the self-signed cert). */
  tls?: { servername: string; ca: string };
}

/** One request on a fresh connection to 127.0.0.1, with full control over Host and TLS verification. */
export function rawRequest(req: RawRequest): Promise<RawResponse> {
  return new Promise((ok, fail) => {
    const common = {
      host: "127.0.0.1",
      port: req.port,
      path: req.path,
      method: req.method ?? "GET",
      headers: req.headers,
      agent: false as const,
    };
    const onResponse = (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      const socket = res.socket as TLSSocket;
      const fingerprint = req.tls ? socket.getPeerCertificate().fingerprint256 : undefined;
      res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint }));
      res.on("error", fail);
    };
    const r = req.tls
      ? httpsRequest({ ...common, servername: req.tls.servername, ca: req.tls.ca }, onResponse)
      : httpRequest(common, onResponse);
    r.setTimeout(5_000, () => r.destroy(new Error("request timed out")));
    r.on("error", fail);
    r.end();
  });
}
