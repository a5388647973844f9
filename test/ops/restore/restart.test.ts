import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { restartContainers } from "../../../ops/restore/containers.ts";
import { createLogger } from "../../../infra/logger.ts";
import { docker, removeTestContainers, TEST_LABEL } from "../support/containers.ts";

const log = createLogger("test-restore-restart", "silent");
const run = `ops-restart-${randomBytes(4).toString("hex")}`;

/** A stopped busybox container that turns healthy 2 s after it starts. */
async function slowToBeHealthy(service: string): Promise<string> {
  const name = `${run}-${service}`;
  await docker.createContainer({
    name,
    Image: "busybox:stable",
    Cmd: ["sh", "-c", "rm -f /tmp/ok; sleep 2; touch /tmp/ok; exec sleep 3600"],
    Labels: { [TEST_LABEL]: run },
    Healthcheck: { Test: ["CMD", "test", "-f", "/tmp/ok"], Interval: 300_000_000, Retries: 30 },
    HostConfig: { Init: true, NetworkMode: "none" },
  });
  return name;
}

const startedAt = async (name: string) => Date.parse((await docker.getContainer(name).inspect()).State.StartedAt);

afterAll(() => removeTestContainers(run));

describe("restarting after a restore", () => {
  it("starts the stopped containers at once, then RESTORE_START_CONTAINERS in their order, each waited for", async () => {
    const [web, worker, api, late] = await Promise.all(["web", "worker", "api", "late"].map(slowToBeHealthy));
    const t0 = Date.now();
    // api was stopped too, but RESTORE_START_CONTAINERS lists it after late: it waits for late to be healthy.
    const failures = await restartContainers(docker, [web!, worker!, api!], [late!, api!], 30_000, log);
    expect(failures).toEqual([]);
    const [w, k, a, l] = await Promise.all([web!, worker!, api!, late!].map(startedAt));
    // web and worker together: neither waited for the other to be healthy (2 s).
    expect(Math.abs(w! - k!)).toBeLessThan(1_500);
    // then the listed ones, each after the previous one was healthy
    expect(l! - Math.max(w!, k!)).toBeGreaterThanOrEqual(1_800);
    expect(a! - l!).toBeGreaterThanOrEqual(1_800);
    for (const name of [web!, worker!, api!, late!])
      expect((await docker.getContainer(name).inspect()).State.Health?.Status).toBe("healthy");
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
