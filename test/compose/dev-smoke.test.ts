// The one development command, `docker compose -f compose.dev.yml up --build`, proven with Debian's
// docker-compose: the dev image, the sample challenge image built by the `challenge` service (which exits),
// then the same assign → serve → remove scenario as production, and `down -v` whatever happens.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compose } from "./support.ts";
import type { RunResult } from "./support.ts";
import { BUILD_TIMEOUT_MS, assignServeRemove, createStack, destroy, must, prepareImages, up } from "./stack.ts";
import type { Stack } from "./stack.ts";

let stack: Stack | null = null;
let upResult: RunResult | null = null;

beforeAll(
  async () => {
    await prepareImages();
    stack = await createStack(["compose.dev.yml"], `dev-smoke-${randomBytes(16).toString("hex")}`, {
      portVariable: "API_PORT",
      healthy: ["web", "worker"],
      env: {},
    });
    upResult = await up(stack);
  },
  BUILD_TIMEOUT_MS + 5 * 60_000,
);

afterAll(() => destroy(stack), 6 * 60_000);

describe("compose.dev.yml", () => {
  it(
    "comes up with one command and serves web100 from the sample catalogue",
    async () => {
      expect(upResult?.code, upResult?.stderr.slice(-4000)).toBe(0);
      await assignServeRemove(stack!);
      const ps = must(await compose(stack!.files, stack!.envFile, ["ps", "challenge"]), "ps challenge").stdout;
      expect(ps).toMatch(/Exit 0/);
    },
    8 * 60_000,
  );
});
