// npm run bench:route — a request to an instance at its web name through the gateway (nginx asks the API's route
// lookup, then proxies) beside the same request straight to the instance's published port, interleaved in the same
// run; the gateway twice: as shipped (lookups kept until the end of their second) and with GATEWAY_ROUTE_CACHE=off
// (the API asked on every request). The API runs as its own process (`node api/main.ts`) on the stack's database, as in Compose; the instance is
// the sample challenge started by the real worker on the suite's Docker engine.
import { Agent } from "node:http";
import { createDb } from "../infra/db.ts";
import { ApiProcess } from "../test/gateway/support/api-process.ts";
import { freePort, TestGateway } from "../test/gateway/support/gateway.ts";
import {
  assignAsync,
  DOMAIN,
  ROUTE_TOKEN,
  ROUTING_ENV,
  runningWithEndpoints,
} from "../test/gateway/support/routing.ts";
import { TestStack } from "../test/support/stack.ts";
import { percentile, timedGet, us } from "./stats.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const PATH = "/team.txt";

// Keep-alive from the client on both paths, as a browser would.
const directAgent = new Agent({ keepAlive: true, maxSockets: 1 });
const gatewayAgent = new Agent({ keepAlive: true, maxSockets: 1 });
const uncachedAgent = new Agent({ keepAlive: true, maxSockets: 1 });

const get = (agent: Agent, host: string, port: number, headers: Record<string, string> = {}, path = PATH) =>
  timedGet({ host, port, path, agent, headers });

const stack = await TestStack.start({ env: ROUTING_ENV });
const db = createDb(stack.db.url, { max: 1 });
// The stack's settings but its own port (ApiProcess sets PORT before the environment given).
const { PORT: _inProcessPort, ...apiEnv } = stack.env();
const api = new ApiProcess(await freePort(), apiEnv);
let gw: TestGateway | null = null;
let uncached: TestGateway | null = null;
try {
  await api.start();
  gw = await TestGateway.start({
    upstreamPort: api.port,
    env: { CHALLENGE_DOMAIN: DOMAIN, GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN },
  });
  uncached = await TestGateway.start({
    upstreamPort: api.port,
    env: { CHALLENGE_DOMAIN: DOMAIN, GATEWAY_ROUTE_TOKEN: ROUTE_TOKEN, GATEWAY_ROUTE_CACHE: "off" },
  });
  const { row } = await runningWithEndpoints(db, await assignAsync(stack, "bench-team"));
  const endpoint = row.endpoints![0]!;
  const [host, port] = [endpoint.upstream.split(":")[0]!, Number(endpoint.upstream.split(":")[1])];
  const routed = { host: `${endpoint.route}.${DOMAIN}` };
  const lookup = { "x-gateway-token": ROUTE_TOKEN };

  for (let i = 0; i < 200; i++) {
    await get(directAgent, host, port);
    await get(gatewayAgent, "127.0.0.1", gw.httpPort, routed);
    await get(uncachedAgent, "127.0.0.1", uncached.httpPort, routed);
  }
  const direct: number[] = [];
  const through: number[] = [];
  const throughUncached: number[] = [];
  const lookups: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < REQUESTS; i++) {
    const a = await get(directAgent, host, port);
    const b = await get(gatewayAgent, "127.0.0.1", gw.httpPort, routed);
    const c = await get(uncachedAgent, "127.0.0.1", uncached.httpPort, routed);
    if (a.status !== 200 || b.status !== 200 || c.status !== 200 || a.body !== b.body || a.body !== c.body)
      throw new Error(`unexpected answers ${a.status}/${b.status}/${c.status}: ${a.body} / ${b.body} / ${c.body}`);
    direct.push(a.ms);
    through.push(b.ms);
    throughUncached.push(c.ms);
  }
  // The lookup alone, as nginx asks it (a new connection each time), for scale.
  for (let i = 0; i < 500; i++) {
    const r = await get(new Agent(), "127.0.0.1", api.port, lookup, `/routes/${endpoint.route}`);
    if (r.status !== 200) throw new Error(`lookup answered ${r.status}`);
    lookups.push(r.ms);
  }

  const [d50, d99, g50, g99] = [
    percentile(direct, 50),
    percentile(direct, 99),
    percentile(through, 50),
    percentile(through, 99),
  ];
  console.log(`route bench: ${REQUESTS} interleaved rounds of GET ${PATH} to one instance, keep-alive client`);
  console.log(`  direct to the container  p50 ${us(d50)}  p99 ${us(d99)}   (baseline: ${endpoint.upstream})`);
  console.log(`  through the gateway      p50 ${us(g50)}  p99 ${us(g99)}   (Host: ${routed.host})`);
  console.log(`  overhead                 p50 +${us(g50 - d50)} (target ≤ 1000 µs)  p99 +${us(g99 - d99)}`);
  console.log(`  ratio gateway/direct     p50 ${(g50 / d50).toFixed(2)}×  p99 ${(g99 / d99).toFixed(2)}×`);
  const [u50, u99] = [percentile(throughUncached, 50), percentile(throughUncached, 99)];
  console.log(`  through the gateway, GATEWAY_ROUTE_CACHE=off  p50 ${us(u50)}  p99 ${us(u99)}`);
  console.log(`  overhead, uncached       p50 +${us(u50 - d50)}  p99 +${us(u99 - d99)}`);
  console.log(
    `  the lookup alone (GET /routes/:route, new connection) p50 ${us(percentile(lookups, 50))}  p99 ${us(percentile(lookups, 99))}`,
  );
} finally {
  directAgent.destroy();
  gatewayAgent.destroy();
  uncachedAgent.destroy();
  await gw?.stop();
  await uncached?.stop();
  await api.kill();
  await db.end();
  await stack.stop();
}
