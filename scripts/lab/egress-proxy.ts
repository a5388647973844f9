// A small forward HTTP proxy on the lab bridge's address: image builds inside the lab's engines reach the package
// registries through it (CONNECT for HTTPS, absolute-URI requests for plain HTTP such as Debian's mirror), so the
// engines' namespaces need no route out and the host no NAT rule. Usage: node egress-proxy.ts ADDRESS PORT
import { createServer, request } from "node:http";
import { connect } from "node:net";

const [address, port] = [process.argv[2], Number(process.argv[3])];
if (!address || !Number.isInteger(port)) {
  console.error("usage: egress-proxy.ts ADDRESS PORT");
  process.exit(64);
}

const server = createServer((req, res) => {
  let target: URL;
  try {
    target = new URL(req.url ?? "");
  } catch {
    res.writeHead(400).end("absolute URI required\n");
    return;
  }
  if (target.protocol !== "http:") {
    res.writeHead(400).end("only http:// is forwarded; use CONNECT for https\n");
    return;
  }
  const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", (err) => {
    if (!res.headersSent) res.writeHead(502).end(`${err.message}\n`);
    else res.destroy();
  });
  req.pipe(upstream);
});

server.on("connect", (req, client, head) => {
  const [host, portText] = (req.url ?? "").split(/:(?=\d+$)/);
  const upstream = connect(Number(portText) || 443, host ?? "");
  upstream.once("connect", () => {
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    client.destroy();
  };
  upstream.on("error", (err) => {
    if (client.writable) client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${err.message}\n`);
    close();
  });
  client.on("error", close);
});

server.listen(port, address, () => console.log(`egress proxy on ${address}:${port}`));
