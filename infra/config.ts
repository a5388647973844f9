import { z } from "zod";
import type { Env } from "./env.ts";
import { configErrorFrom, int, resolveFileVariants } from "./env.ts";

const urlWithScheme = (schemes: string[]) =>
  z
    .string({ error: "is required" })
    .min(1, "is required")
    .refine((v) => schemes.some((s) => v.startsWith(`${s}://`)), `must be a ${schemes.join(" or ")}:// URL`);

const hostAddress = z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" });

const baseSchema = z.object({
  DATABASE_URL: urlWithScheme(["postgres", "postgresql"]),
  REDIS_URL: urlWithScheme(["redis", "rediss"]),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Names the deployment on every managed Docker object, so two stacks on one engine never touch each other's.
  DEPLOYMENT_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must match [a-z0-9][a-z0-9_-]{0,31}")
    .default("default"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, "must match [A-Za-z0-9_-]{1,32}")
    .default("ctf"),
  // Lifetime of an instance whose challenge sets no ttl_seconds.
  DEFAULT_TTL_SECONDS: int(30, 604800, 3600),
  // Capabilities a challenge may ask to keep; everything else stays dropped.
  ALLOWED_CAPABILITIES: z
    .string()
    .default("CHOWN,DAC_OVERRIDE,FOWNER,SETGID,SETUID,NET_BIND_SERVICE,KILL,SYS_CHROOT")
    .transform((v) =>
      v
        .split(",")
        .map((c) => c.trim().toUpperCase().replace(/^CAP_/, ""))
        .filter(Boolean),
    )
    .refine((caps) => caps.every((c) => /^[A-Z_]{2,32}$/.test(c)), "must be comma-separated capability names"),
});

const apiSchema = baseSchema.extend({
  API_TOKENS: z
    .string({ error: "is required (comma-separated bearer tokens)" })
    .transform((v) =>
      v
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .refine((tokens) => tokens.length > 0, "needs at least one token")
    .refine((tokens) => tokens.every((t) => t.length >= 16), "every token needs at least 16 characters"),
  HOST: z.string().default("0.0.0.0"),
  PORT: int(0, 65535, 5000), // 0 picks a free port (tests)
  PUBLIC_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$|^\[[0-9a-fA-F:]+\]$/, "must be a host name or address")
    .default("localhost"),
  ASSIGN_WAIT_SECONDS: int(0, 300, 30),
  CHALLENGES_FILE: z.string().min(1).optional(),
  // Renewal opens this long before expiry, and never takes an instance past MAX_LIFETIME_SECONDS from its start.
  RENEW_WINDOW_SECONDS: int(0, 604800, 900),
  MAX_LIFETIME_SECONDS: int(60, 2592000, 14400),
  TEAM_MAX_INSTANCES: int(1, 1000, 3),
  MAX_LIVE_INSTANCES: int(1, 100000, 500),
  // The same cap counted in containers: a challenge of several containers takes that many.
  MAX_LIVE_CONTAINERS: int(1, 1000000, 2000),
  // Minimum time between assign and remove (either order) of one team's instance of one challenge.
  COOLDOWN_SECONDS: int(0, 3600, 5),
  // HMAC key for per-team flags; challenges with a flag_format need it.
  FLAG_SECRET: z.string().min(32, "needs at least 32 characters").optional(),
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 300, 10),
  // The shared token of rCTF's instancer protocol (docs/rctf.md); the family is not mounted without it.
  RCTF_AUTH_TOKEN: z.string().min(16, "needs at least 16 characters").optional(),
  // Where that family is mounted: rCTF's apiUrl is this host's URL with this path.
  RCTF_BASE_PATH: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, "must be a path such as /rctf (no trailing slash)")
    .default("/rctf"),
  // With it, every http exposure is also served through the gateway at <route>.<CHALLENGE_DOMAIN>, where the
  // route is the instance's unguessable slug.
  CHALLENGE_DOMAIN: z
    .string()
    .regex(/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a lower-case DNS name")
    .optional(),
  // The scheme of those web addresses: https behind the gateway's TLS or a proxy in front, else http.
  CHALLENGE_URL_SCHEME: z.enum(["http", "https"], { error: "must be http or https" }).default("https"),
  // HS256 key the CTF platform signs team tokens with (docs/dashboard.md); unset, only admin tokens are accepted.
  TEAM_TOKEN_SECRET: z.string().min(32, "needs at least 32 characters").optional(),
  // Who may frame the team page (CSP frame-ancestors): the platform's origins, space-separated; none by default.
  TEAM_PAGE_FRAME_ANCESTORS: z
    .string()
    .default("'none'")
    .refine(
      (v) =>
        v
          .trim()
          .split(/\s+/)
          .every((s) => /^('none'|'self'|https?:\/\/[A-Za-z0-9.*:[\]-]+)$/.test(s)),
      "must be 'none', 'self' or space-separated http(s) origins",
    ),
  // Read by the dashboard only, when the API can see them (read-only mounts): the backup directory, and the flag
  // file a restore writes while the gateway shows its maintenance page.
  BACKUP_DIR: z.string().startsWith("/", "must be an absolute path").optional(),
  MAINTENANCE_FLAG_FILE: z.string().startsWith("/", "must be an absolute path").optional(),
  // The secret the gateway sends with each route lookup (GET /routes/:route); without it the lookup refuses all.
  GATEWAY_ROUTE_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+/=-]{32,256}$/, "must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -")
    .optional(),
});

const workerSchema = baseSchema.extend({
  // What runs the instances: the one Docker engine at DOCKER_HOST, or the Swarm cluster it manages.
  ENGINE: z.enum(["docker", "swarm"], { error: "must be docker or swarm" }).default("docker"),
  // ENGINE=swarm: a Docker client config (what `docker login` writes) whose credentials go with each service
  // create, so nodes can pull from a private registry.
  REGISTRY_AUTH_FILE: z.string().min(1).optional(),
  // ENGINE=swarm: a config-only bridge network every node has (docs/swarm.md). One-container instances then share
  // a bridge made from it, icc off, instead of each getting an overlay of its own, which costs a node ~0.8 s.
  SWARM_SHARED_BRIDGE: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "must be a Docker network name")
    .optional(),
  PUBLIC_HOST: apiSchema.shape.PUBLIC_HOST,
  PORT_BIND_ADDRESS: hostAddress.default("0.0.0.0"),
  // Where the worker reaches published ports to check a challenge is up; defaults to the bind address,
  // or loopback when that is a wildcard.
  PORT_CHECK_HOST: z.string().min(1).optional(),
  START_TIMEOUT_SECONDS: int(1, 600, 30),
  STOP_TIMEOUT_SECONDS: int(0, 120, 5),
  WORKER_CONCURRENCY: int(1, 256, 16),
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 300, 30),
  RECONCILE_INTERVAL_SECONDS: int(5, 3600, 30),
  // A crashed worker's jobs are handed to another after this long without a lock renewal.
  JOB_LOCK_SECONDS: int(2, 600, 30),
  // Restarts of an exited container, for challenges with restart_on_exit, before the instance is marked failed.
  MAX_RESTARTS: int(0, 100, 3),
  // The worker's Prometheus text on this port (0 turns it off); the API serves /metrics on its own port.
  METRICS_PORT: int(0, 65535, 9464),
  // Where that port listens. Loopback by default: it has no auth, and challenge containers reach every host
  // address through their bridge gateway. In Compose, set it to the container's own address (0.0.0.0).
  METRICS_HOST: hostAddress.default("127.0.0.1"),
});

export type ApiConfig = z.infer<typeof apiSchema>;
export type WorkerConfig = Omit<z.infer<typeof workerSchema>, "PORT_CHECK_HOST"> & { PORT_CHECK_HOST: string };

/**
 * An empty variable counts as unset: Compose passes `${NAME:-}` to every stack, whether it uses the setting or not,
 * and a required one is still reported missing.
 */
function parse<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = schema.safeParse(resolveFileVariants(set, SECRET_VARS));
  if (result.success) return result.data;
  throw configErrorFrom(result.error);
}

export function loadApiConfig(env: Env): ApiConfig {
  return parse(apiSchema, env);
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const cfg = parse(workerSchema, env);
  const wildcard = cfg.PORT_BIND_ADDRESS === "0.0.0.0" || cfg.PORT_BIND_ADDRESS === "::";
  return { ...cfg, PORT_CHECK_HOST: cfg.PORT_CHECK_HOST ?? (wildcard ? "127.0.0.1" : cfg.PORT_BIND_ADDRESS) };
}

export function loadDatabaseUrl(env: Env): string {
  return parse(baseSchema.pick({ DATABASE_URL: true }), env).DATABASE_URL;
}

/** The settings whose values a log line never shows. */
export const SECRET_SETTINGS = [
  "API_TOKENS",
  "FLAG_SECRET",
  "RCTF_AUTH_TOKEN",
  "TEAM_TOKEN_SECRET",
  "GATEWAY_ROUTE_TOKEN",
] as const;

// Secrets may come from files (Docker/Compose secrets): NAME_FILE wins over NAME. The URLs carry passwords too
// (their log lines are redacted by URL, not hidden).
const SECRET_VARS = ["DATABASE_URL", "REDIS_URL", ...SECRET_SETTINGS];
