import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { loadApiConfig, loadWorkerConfig, type ApiConfig, type WorkerConfig } from "../../infra/config.ts";
import { challengeSpecSchema, upsertChallenge, type ChallengeSpec } from "../../domain/challenges.ts";
import { createDb } from "../../infra/db.ts";
import { createLogger } from "../../infra/logger.ts";
import { startApi, type RunningApi } from "../../api/host.ts";
import { startWorker, type RunningWorker } from "../../worker/run.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import type Docker from "dockerode";
import { removeDeploymentResources, removeSwarmDeployment } from "./docker.ts";
import { testEnv } from "./env.ts";

export const TEST_TOKEN = "test-token-0123456789abcdef";

/** The sample challenge every test stack has, with small limits. */
export const WEB100: ChallengeSpec = challengeSpecSchema.parse({
  image: testEnv.challengeImage,
  port: 80,
  memory_mb: 64,
  cpus: 0.25,
  pids_limit: 64,
});

export interface StackOptions {
  redisUrl?: string;
  assignWaitSeconds?: number;
  worker?: boolean;
  env?: Record<string, string>;
  /** The engine the worker drives (else the suite's): a swarm manager of a test's own lab, with ENGINE=swarm. */
  docker?: Docker;
}

/**
 * A real API host and (optionally) a real worker, in this process, on their own database, queue prefix and
 * Docker deployment label, so test files never see each other's state.
 */
export class TestStack {
  readonly id = randomBytes(4).toString("hex");
  readonly deployment = `t${this.id}`;
  db!: TestDatabase;
  api!: RunningApi;
  worker: RunningWorker | null = null;
  private opts: StackOptions = {};

  static async start(opts: StackOptions = {}): Promise<TestStack> {
    const stack = new TestStack();
    stack.opts = opts;
    stack.db = await createTestDatabase();
    const pool = createDb(stack.db.url, { max: 1 });
    try {
      await upsertChallenge(pool, "web100", WEB100);
    } finally {
      await pool.end();
    }
    stack.api = await startApi(stack.apiConfig(), createLogger("api", "silent"));
    if (opts.worker !== false) await stack.startWorker();
    return stack;
  }

  /** The environment the API and worker of this stack run with (a child process gets the suite's engine too). */
  env(): Record<string, string> {
    return {
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      DATABASE_URL: this.db.url,
      REDIS_URL: this.opts.redisUrl ?? testEnv.redisUrl,
      API_TOKENS: TEST_TOKEN,
      HOST: "127.0.0.1",
      PORT: "0",
      PUBLIC_HOST: testEnv.engineHost,
      PORT_BIND_ADDRESS: testEnv.engineHost,
      ASSIGN_WAIT_SECONDS: String(this.opts.assignWaitSeconds ?? 30),
      DEPLOYMENT_NAME: this.deployment,
      QUEUE_PREFIX: `q${this.id}`,
      SHUTDOWN_TIMEOUT_SECONDS: "5",
      COOLDOWN_SECONDS: "0",
      TEAM_MAX_INSTANCES: "100",
      METRICS_PORT: "0",
      STOP_TIMEOUT_SECONDS: "1",
      LOG_LEVEL: "silent",
      ...this.opts.env,
    };
  }

  apiConfig(): ApiConfig {
    return loadApiConfig(this.env());
  }

  workerConfig(): WorkerConfig {
    return loadWorkerConfig(this.env());
  }

  async startWorker(): Promise<RunningWorker> {
    return this.startWorkerWith({});
  }

  /** Starts a worker with some variables changed; it becomes this stack's worker. */
  async startWorkerWith(env: Record<string, string>): Promise<RunningWorker> {
    this.worker = await startWorker(loadWorkerConfig({ ...this.env(), ...env }), createLogger("worker", "silent"), {
      docker: this.opts.docker,
    });
    return this.worker;
  }

  get url(): string {
    return this.api.url;
  }

  /** JSON request with the test token unless `token: null`. */
  async request(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TEST_TOKEN}`;
    if (opts.body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body, headers: res.headers };
  }

  async stop(): Promise<void> {
    await this.worker?.close().catch(() => {});
    await this.api?.close().catch(() => {});
    if (this.opts.docker) await removeSwarmDeployment(this.opts.docker, this.deployment);
    else await removeDeploymentResources(this.deployment);
    await clearQueue(this.opts.redisUrl ?? testEnv.redisUrl, `q${this.id}`).catch(() => {});
    await this.db?.drop();
  }
}

async function clearQueue(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 1000 });
  redis.on("error", () => {}); // a Redis a test stopped makes the scan below reject, which the caller ignores
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
