import { z } from "zod";
import type { AppDeps } from "../http/deps.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";

const CHECK_TIMEOUT_MS = 1000;

async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), ms))),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function checks(deps: AppDeps) {
  const [postgres, redis] = await Promise.all([
    within(CHECK_TIMEOUT_MS, deps.db.query("SELECT 1")),
    within(CHECK_TIMEOUT_MS, deps.redis.ping()),
  ]);
  return { postgres, redis, accepting: !deps.draining.value };
}

export default defineEndpoint({
  method: "GET",
  path: "/readyz",
  operationId: "getReadiness",
  auth: "public",
  summary: "Readiness: PostgreSQL and Redis reachable and the server not draining; 503 otherwise.",
  responses: {
    200: z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.boolean()) }),
  },
  errors: [503],
  async handler({ deps }) {
    const result = await checks(deps);
    if (Object.values(result).every(Boolean))
      return { status: 200, body: { status: "ready" as const, checks: result } };
    throw new AppError("service_unavailable", "not ready", {
      details: { checks: result },
      headers: { "Retry-After": "5" },
    });
  },
});
