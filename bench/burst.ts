// npm run bench:burst — 100 distinct teams assign at once through the instancer, beside 100 raw starts of the
// same image at the same concurrency on the same engine (`docker run -d -p`, or with ENGINE=swarm a service with
// a host-mode port), in the same run. Prints total time, p50/p95, the ratio, and checks that no two instances
// share an address and that nothing is left behind.
import { TestStack } from "../test/support/stack.ts";
import { fmt, percentile, untilHttpOk } from "./stats.ts";
import { benchTarget, type Baseline, type RawInstance } from "./targets.ts";
const N = Number(process.env.BENCH_TEAMS ?? 100);

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

async function instancerBurst(stack: TestStack) {
  return timed(() =>
    Promise.all(
      Array.from({ length: N }, (_, i) =>
        timed(async () => {
          const res = await stack.request("POST", "/assign", {
            body: { team_id: `burst${i}`, challenge_id: "web100" },
          });
          if (res.status !== 200 && res.status !== 202)
            throw new Error(`assign ${i}: ${res.status} ${JSON.stringify(res.body)}`);
          // Not running within ASSIGN_WAIT_SECONDS: a client follows the Location, as ours does here.
          const instance = res.status === 200 ? res.body : await untilRunning(stack, res.body.status_url);
          await untilHttpOk(instance.container_address, 120_000);
          return instance.container_address as string;
        }),
      ),
    ),
  );
}

async function untilRunning(stack: TestStack, statusUrl: string) {
  for (const deadline = Date.now() + 300_000; Date.now() < deadline;) {
    const { body } = await stack.request("GET", statusUrl);
    if (body.state === "running") return body;
    if (body.state === "failed") throw new Error(`instance failed: ${body.error}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not running after 300 s: ${statusUrl}`);
}

async function rawBurst(baseline: Baseline, label: string) {
  return timed(() =>
    Promise.all(
      Array.from({ length: N }, () =>
        timed(async (): Promise<RawInstance> => {
          const raw = await baseline.start(label);
          await untilHttpOk(`${raw.address}/`, 120_000);
          return raw;
        }),
      ),
    ),
  );
}

const target = await benchTarget();
const stack = await TestStack.start({
  ...target.stack,
  env: { ...target.stack.env, MAX_LIVE_INSTANCES: String(N * 2), TEAM_MAX_INSTANCES: "3" },
});
try {
  await target.prepare(stack);
  const ours = await instancerBurst(stack);
  const addresses = ours.value.map((r) => r.value);
  const workloads = await target.workloads(stack.deployment);
  const collisions = addresses.length - new Set(addresses).size;
  const orphans = workloads.length - N;

  const raws = [];
  for (const baseline of target.baselines) {
    const raw = await rawBurst(baseline, `org.ctf-instancer.bench=${stack.id}`);
    await Promise.all(raw.value.map((r) => r.value.remove()));
    raws.push(raw);
  }

  const line = (name: string, total: number, each: number[]) =>
    console.log(
      `${name.padEnd(40)} total ${fmt(total).padStart(9)}   p50 ${fmt(percentile(each, 50)).padStart(8)}   p95 ${fmt(percentile(each, 95)).padStart(8)}`,
    );
  console.log(`${N} teams at once: assign → reachable, on ${target.name}`);
  line(
    "instancer (API + worker)",
    ours.ms,
    ours.value.map((r) => r.ms),
  );
  for (const [b, baseline] of target.baselines.entries())
    line(
      `${baseline.name}${b ? "" : " (baseline)"}`,
      raws[b]!.ms,
      raws[b]!.value.map((r) => r.ms),
    );
  for (const [b, baseline] of target.baselines.entries())
    console.log(
      `against ${baseline.name.trim()}: total-time ratio ${(ours.ms / raws[b]!.ms).toFixed(2)}${b ? "" : " (target ≤ 1.5)"}`,
    );
  console.log(
    `address collisions ${collisions}, workloads ${workloads.length} for ${new Set(workloads).size} instances (orphans/duplicates ${orphans})`,
  );
} finally {
  await stack.stop();
  console.log(`left behind after cleanup: ${(await target.workloads(stack.deployment)).length} workloads`);
  await target.close();
}
