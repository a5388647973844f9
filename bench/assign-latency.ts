// npm run bench:assign — 30 sequential assign → reachable → remove cycles through the instancer, beside 30 raw
// `docker run -d -p` → reachable → `docker rm -f` cycles of the same image, in the same run.
import { execFileSync } from "node:child_process";
import { TestStack } from "../test/support/stack.ts";
import { testEnv } from "../test/support/env.ts";
import { fmt, percentile, untilHttpOk } from "./stats.ts";

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

async function rawDockerCycle(): Promise<number> {
  const t0 = performance.now();
  const id = execFileSync("docker", ["run", "-d", "-p", `${testEnv.engineHost}::80`, testEnv.challengeImage], {
    encoding: "utf8",
  }).trim();
  try {
    const port = execFileSync("docker", ["port", id, "80/tcp"], { encoding: "utf8" }).trim().split(":").pop();
    await untilHttpOk(`http://${testEnv.engineHost}:${port}/`);
  } finally {
    execFileSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  }
  return performance.now() - t0;
}

const stack = await TestStack.start();
try {
  await instancerCycle(stack, "warmup");
  await rawDockerCycle();
  const ours: number[] = [];
  const raw: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < CYCLES; i++) {
    ours.push(await instancerCycle(stack, `bench${i}`));
    raw.push(await rawDockerCycle());
  }
  const row = (name: string, v: number[]) =>
    console.log(
      `${name.padEnd(34)} p50 ${fmt(percentile(v, 50)).padStart(8)}   p95 ${fmt(percentile(v, 95)).padStart(8)}`,
    );
  console.log(`assign → reachable → remove, ${CYCLES} sequential cycles`);
  row("instancer (API + worker)", ours);
  row("raw docker run / rm -f (baseline)", raw);
  const ratio = percentile(ours, 50) / percentile(raw, 50);
  console.log(
    `p50 ratio ${ratio.toFixed(2)} (target ≤ 1.3)   p95 ratio ${(percentile(ours, 95) / percentile(raw, 95)).toFixed(2)}`,
  );
} finally {
  await stack.stop();
}
