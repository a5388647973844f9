// npm run bench:gateway — request latency through the gateway (Debian's nginx, rendered templates, access log on)
// beside the same request straight to the API, interleaved in the same run; then the time from killing the API
// to the first maintenance response. Uses the real API (`node api/main.ts`, GET /healthz) when the test
// services are up (TEST_DATABASE_URL, TEST_REDIS_URL), else a node:http stand-in.
import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { ApiProcess } from "../test/gateway/support/api-process.ts";
import { freePort, openTempDir, TestGateway } from "../test/gateway/support/gateway.ts";
import { StubUpstream } from "../test/gateway/support/upstream.ts";
import { percentile, timedGet, us } from "./stats.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const KILLS = Number(process.env.BENCH_KILLS ?? 5);
const PATH = "/healthz";

interface Upstream {
  port: number;
  kind: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

async function makeUpstream(): Promise<Upstream> {
  const db = process.env.TEST_DATABASE_URL;
  const redis = process.env.TEST_REDIS_URL;
  if (db && redis) {
    const id = randomBytes(4).toString("hex");
    const api = new ApiProcess(await freePort(), {
      DATABASE_URL: db,
      REDIS_URL: redis,
      API_TOKENS: `bench-${randomBytes(12).toString("hex")}`,
      LOG_LEVEL: "silent",
      QUEUE_PREFIX: `bench${id}`,
      DEPLOYMENT_NAME: `bench${id}`,
    });
    return { port: api.port, kind: "real API", start: () => api.start(), kill: () => api.kill() };
  }
  const stub = new StubUpstream();
  stub.port = await freePort();
  return { port: stub.port, kind: "node:http stand-in", start: () => stub.start(), kill: () => stub.stop() };
}

// Keep-alive from the client on both paths, as a CTF platform's HTTP client would.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

const get = (port: number) =>
  timedGet({ host: "127.0.0.1", port, path: PATH, agent, headers: { accept: "application/json" } });

const upstream = await makeUpstream();
const logDir = await openTempDir("gw-bench-");
let gw: TestGateway | null = null;
try {
  await upstream.start();
  gw = await TestGateway.start({
    upstreamPort: upstream.port,
    env: { GATEWAY_ACCESS_LOG: join(logDir, "access.log"), GATEWAY_RATE_LIMIT_EXEMPT: "127.0.0.1" },
  });

  for (let i = 0; i < 200; i++) {
    await get(upstream.port);
    await get(gw.httpPort);
  }
  const direct: number[] = [];
  const through: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < REQUESTS; i++) {
    const a = await get(upstream.port);
    const b = await get(gw.httpPort);
    if (a.status !== 200 || b.status !== 200) throw new Error(`unexpected status ${a.status}/${b.status}`);
    direct.push(a.ms);
    through.push(b.ms);
  }

  // The maintenance response itself (flag file), for scale.
  await gw.setMaintenanceFlag(true);
  const maintenance: number[] = [];
  for (let i = 0; i < 500; i++) maintenance.push((await get(gw.httpPort)).ms);
  await gw.setMaintenanceFlag(false);

  // Kill → first maintenance response. The request is sent as soon as the process is gone.
  const toMaintenance: number[] = [];
  const afterExit: number[] = [];
  let firstWasMaintenance = 0;
  const isMaintenance = (r: { status: number; body: string }) => r.status === 503 && r.body.includes('"maintenance"');
  for (let i = 0; i < KILLS; i++) {
    await get(gw.httpPort);
    const t0 = performance.now();
    await upstream.kill(); // SIGKILL, resolved once the process has exited
    const exited = performance.now();
    let res = await get(gw.httpPort);
    if (isMaintenance(res)) firstWasMaintenance++;
    while (!isMaintenance(res)) res = await get(gw.httpPort);
    toMaintenance.push(performance.now() - t0);
    afterExit.push(performance.now() - exited);
    await upstream.start();
  }

  const [d50, d99, g50, g99] = [
    percentile(direct, 50),
    percentile(direct, 99),
    percentile(through, 50),
    percentile(through, 99),
  ];
  console.log(
    `gateway bench: ${REQUESTS} interleaved GET ${PATH} pairs, upstream = ${upstream.kind}, keep-alive client`,
  );
  console.log(`  direct to API   p50 ${us(d50)}  p99 ${us(d99)}   (baseline)`);
  console.log(`  through gateway p50 ${us(g50)}  p99 ${us(g99)}`);
  console.log(`  overhead        p50 +${us(g50 - d50)} (target ≤ 1000 µs)  p99 +${us(g99 - d99)}`);
  console.log(`  ratio gateway/direct p50 ${(g50 / d50).toFixed(2)}×  p99 ${(g99 / d99).toFixed(2)}×`);
  console.log(
    `  maintenance response (flag) p50 ${us(percentile(maintenance, 50))}  p99 ${us(percentile(maintenance, 99))}`,
  );
  console.log(
    `  API killed (SIGKILL) → first maintenance response: median ${us(percentile(toMaintenance, 50))}, ` +
      `max ${us(Math.max(...toMaintenance))}; of which after the process had exited: median ${us(percentile(afterExit, 50))}`,
  );
  console.log(
    `  first request after the API died was already maintenance: ${firstWasMaintenance}/${KILLS} (target: all)`,
  );
} finally {
  agent.destroy();
  await gw?.stop();
  await upstream.kill();
  await rm(logDir, { recursive: true, force: true });
}
