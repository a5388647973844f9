// npm run bench:assign — 30 sequential assign → reachable → remove cycles through the instancer, beside 30 raw
// cycles of the same image on the same engine, in the same run: `docker run -d -p` → reachable → `docker rm -f`,
// or with ENGINE=swarm a service with a host-mode port → reachable → service rm.
import { TestStack } from "../test/support/stack.ts";
import { fmt, percentile, untilHttpOk } from "./stats.ts";
import { benchTarget, type BenchTarget } from "./targets.ts";

const CYCLES = Number(process.env.BENCH_CYCLES ?? 30);

async function instancerCycle(stack: TestStack, team: string): Promise<number> {
  const t0 = performance.now();
  const assigned = await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: "web100" } });
  if (assigned.status !== 200) throw new Error(`assign answered ${assigned.status}: ${JSON.stringify(assigned.body)}`);
  await untilHttpOk(assigned.body.container_address);
  const removed = await stack.request("POST", "/remove", { body: { team_id: team, challenge_id: "web100" } });
  if (removed.status !== 200) throw new Error(`remove answered ${removed.status}`);
  return performance.now() - t0;
}

async function rawCycle(target: BenchTarget): Promise<number> {
  const t0 = performance.now();
  const raw = await target.rawStart("org.ctf-instancer.bench=assign");
  try {
    await untilHttpOk(`${raw.address}/`);
  } finally {
    await raw.remove();
  }
  return performance.now() - t0;
}

const target = await benchTarget();
const stack = await TestStack.start(target.stack);
try {
  await target.prepare(stack);
  await instancerCycle(stack, "warmup");
  await rawCycle(target);
  const ours: number[] = [];
  const raw: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < CYCLES; i++) {
    ours.push(await instancerCycle(stack, `bench${i}`));
    raw.push(await rawCycle(target));
  }
  const row = (name: string, v: number[]) =>
    console.log(
      `${name.padEnd(34)} p50 ${fmt(percentile(v, 50)).padStart(8)}   p95 ${fmt(percentile(v, 95)).padStart(8)}`,
    );
  console.log(`assign → reachable → remove, ${CYCLES} sequential cycles, on ${target.name}`);
  row("instancer (API + worker)", ours);
  row(`${target.rawName} (baseline)`, raw);
  const ratio = percentile(ours, 50) / percentile(raw, 50);
  console.log(
    `p50 ratio ${ratio.toFixed(2)} (target ≤ 1.3)   p95 ratio ${(percentile(ours, 95) / percentile(raw, 95)).toFixed(2)}`,
  );
} finally {
  await stack.stop();
  await target.close();
}
