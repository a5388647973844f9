// npm run bench:assign — 30 sequential assign → reachable → remove cycles through the instancer, beside 30 raw
// cycles of the same image on the same engine, in the same run: `docker run -d -p` → reachable → `docker rm -f`,
// or with ENGINE=swarm a service with a host-mode port → reachable → service rm.
import { TestStack } from "../test/support/stack.ts";
import { fmt, percentile, untilHttpOk } from "./stats.ts";
import { benchTarget, type Baseline } from "./targets.ts";

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

async function rawCycle(baseline: Baseline): Promise<number> {
  const t0 = performance.now();
  const raw = await baseline.start("org.ctf-instancer.bench=assign");
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
  for (const baseline of target.baselines) await rawCycle(baseline);
  const ours: number[] = [];
  const raws: number[][] = target.baselines.map(() => []);
  // Interleaved, so all see the same machine load.
  for (let i = 0; i < CYCLES; i++) {
    ours.push(await instancerCycle(stack, `bench${i}`));
    for (const [b, baseline] of target.baselines.entries()) raws[b]!.push(await rawCycle(baseline));
  }
  const row = (name: string, v: number[]) =>
    console.log(
      `${name.padEnd(40)} p50 ${fmt(percentile(v, 50)).padStart(8)}   p95 ${fmt(percentile(v, 95)).padStart(8)}`,
    );
  console.log(`assign → reachable → remove, ${CYCLES} sequential cycles, on ${target.name}`);
  row("instancer (API + worker)", ours);
  for (const [b, baseline] of target.baselines.entries()) row(`${baseline.name}${b ? "" : " (baseline)"}`, raws[b]!);
  for (const [b, baseline] of target.baselines.entries()) {
    const p = (q: number) => (percentile(ours, q) / percentile(raws[b]!, q)).toFixed(2);
    console.log(
      `against ${baseline.name.trim()}: p50 ratio ${p(50)}${b ? "" : " (target ≤ 1.3)"}   p95 ratio ${p(95)}`,
    );
  }
} finally {
  await stack.stop();
  await target.close();
}
