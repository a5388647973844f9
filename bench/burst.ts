// npm run bench:burst — 100 distinct teams assign at once through the instancer, beside 100 raw
// `docker run -d -p` of the same image at the same concurrency, in the same run. Prints total time, p50/p95,
// the ratio, and checks that no two instances share a port and that nothing is left behind.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { LABEL } from "../worker/docker/labels.ts";
import { deploymentContainers } from "../test/support/docker.ts";
import { testEnv } from "../test/support/env.ts";
import { TestStack } from "../test/support/stack.ts";
import { fmt, percentile, untilHttpOk } from "./stats.ts";

const run = promisify(execFile);
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
          return instance.host_port as number;
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

async function rawBurst(label: string) {
  return timed(() =>
    Promise.all(
      Array.from({ length: N }, () =>
        timed(async () => {
          const { stdout } = await run("docker", [
            "run",
            "-d",
            "--label",
            label,
            "-p",
            `${testEnv.engineHost}::80`,
            testEnv.challengeImage,
          ]);
          const id = stdout.trim();
          const port = (await run("docker", ["port", id, "80/tcp"])).stdout.trim().split(":").pop();
          await untilHttpOk(`http://${testEnv.engineHost}:${port}/`, 120_000);
          return id;
        }),
      ),
    ),
  );
}

const stack = await TestStack.start({ env: { MAX_LIVE_INSTANCES: String(N * 2), TEAM_MAX_INSTANCES: "3" } });
const rawLabel = `org.ctf-instancer.bench=${stack.id}`;
try {
  const ours = await instancerBurst(stack);
  const ports = ours.value.map((r) => r.value);
  const containers = await deploymentContainers(stack.deployment);
  const ids = new Set(containers.map((c) => c.Labels[LABEL.instanceId]));
  const collisions = ports.length - new Set(ports).size;
  const orphans = containers.length - N;

  const raw = await rawBurst(rawLabel);
  const rawIds = raw.value.map((r) => r.value);
  await run("docker", ["rm", "-f", ...rawIds]);

  const line = (name: string, total: number, each: number[]) =>
    console.log(
      `${name.padEnd(34)} total ${fmt(total).padStart(9)}   p50 ${fmt(percentile(each, 50)).padStart(8)}   p95 ${fmt(percentile(each, 95)).padStart(8)}`,
    );
  console.log(`${N} teams at once: assign → reachable`);
  line(
    "instancer (API + worker)",
    ours.ms,
    ours.value.map((r) => r.ms),
  );
  line(
    "raw docker run -d -p (baseline)",
    raw.ms,
    raw.value.map((r) => r.ms),
  );
  console.log(`total-time ratio ${(ours.ms / raw.ms).toFixed(2)} (target ≤ 1.5)`);
  console.log(
    `port collisions ${collisions}, containers ${containers.length} for ${ids.size} instances (orphans/duplicates ${orphans})`,
  );
} finally {
  const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=${rawLabel}`]);
  if (stdout.trim()) await run("docker", ["rm", "-f", ...stdout.trim().split("\n")]);
  await stack.stop();
  const left = await deploymentContainers(stack.deployment);
  console.log(`left behind after cleanup: ${left.length} containers`);
}
