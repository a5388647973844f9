// The production stack end to end on a machine with no image registry: stand-ins for the base images
// (docker/offline/build-stand-ins.sh, reused when present), `docker-compose -f compose.prod.yml up -d --build`,
// health, assign web100 through the published API, fetch the returned address, remove it, the container is gone,
// and `down -v` whatever happens. See test/compose/stack.ts for the addresses used.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./support.ts";
import type { RunResult } from "./support.ts";
import { BUILD_TIMEOUT_MS, assignServeRemove, createStack, destroy, must, prepareImages, up } from "./stack.ts";
import type { Stack } from "./stack.ts";

let stack: Stack | null = null;
let upResult: RunResult | null = null;

beforeAll(
  async () => {
    await prepareImages();
    const gid = must(await run("stat", ["-c", "%g", "/var/run/docker.sock"]), "stat docker.sock").stdout.trim();
    stack = await createStack(["compose.prod.yml"], `smoke-${randomBytes(16).toString("hex")}`, {
      APP_IMAGE: "ctf-instancer/app:compose-test",
      POSTGRES_PASSWORD: randomBytes(16).toString("hex"),
      REDIS_PASSWORD: randomBytes(16).toString("hex"),
      API_BIND_ADDRESS: "127.0.0.1",
      DOCKER_GID: gid,
    });
    upResult = await up(stack);
  },
  BUILD_TIMEOUT_MS + 5 * 60_000,
);

afterAll(() => destroy(stack), 6 * 60_000);

describe("compose.prod.yml on local stand-ins", () => {
  it(
    "comes up healthy, assigns web100 at an address that serves, and removes it",
    async () => {
      expect(upResult?.code, upResult?.stderr.slice(-4000)).toBe(0);
      await assignServeRemove(stack!);
    },
    8 * 60_000,
  );
});
