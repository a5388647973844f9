// The image's HEALTHCHECK. docker/entrypoint.sh records the role it started (api, worker) in ROLE_FILE:
//  - api: GET /healthz on the local port answers 200 (liveness; readiness is /readyz);
//  - worker: PostgreSQL answers SELECT 1 and Redis answers PING (the worker process itself is the container's
//    main process under tini: when it dies, the container stops);
//  - anything else (a one-off command, migrate): healthy.
// Exits 0 healthy, 1 unhealthy, with one line saying why.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { readSetting, waitForPostgres, waitForRedis } from "./checks.ts";

type Env = Record<string, string | undefined>;

export const ROLE_FILE = "/tmp/ctf-instancer.role";

export function currentRole(file: string = ROLE_FILE): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

export async function checkHealth(role: string, env: Env): Promise<string> {
  if (role === "api") {
    const url = `http://127.0.0.1:${env.PORT || "5000"}/healthz`;
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    return `${url} answered 200`;
  }
  if (role === "worker") {
    const opts = { timeoutMs: 0 };
    const db = readSetting(env, "DATABASE_URL");
    const redis = readSetting(env, "REDIS_URL");
    if (db) await waitForPostgres(db, opts);
    if (redis) await waitForRedis(redis, opts);
    return "PostgreSQL and Redis answer";
  }
  return `nothing to check for role "${role || "none"}"`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    process.stdout.write(`healthy: ${await checkHealth(currentRole(), process.env)}\n`);
    process.exit(0);
  } catch (err) {
    process.stdout.write(`unhealthy: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
