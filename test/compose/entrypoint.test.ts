// The container entrypoint's start-up checks (docker/entrypoint/checks.ts and main.ts, docker/entrypoint.sh) against the real
// PostgreSQL, Redis and Docker engine the suite runs on: waits that succeed, waits that time out with a message
// naming the service and its address, database creation, and the shell entrypoint end to end (source mode).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { checkHealth } from "../../docker/entrypoint/healthcheck.ts";
import {
  StartupError,
  databaseName,
  describeUrl,
  ensureDatabase,
  prepare,
  readSetting,
  waitForDocker,
  waitForPostgres,
  waitForRedis,
} from "../../docker/entrypoint/checks.ts";
import { testEnv } from "../support/env.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const created: string[] = [];

function urlWithDatabase(name: string): string {
  const url = new URL(testEnv.databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl });
  await client.connect();
  try {
    return Boolean((await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount);
  } finally {
    await client.end();
  }
}

function runEntrypoint(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      [join(ROOT, "docker/entrypoint.sh"), ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

afterAll(async () => {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl });
  await client.connect();
  try {
    for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
});

describe("settings", () => {
  it("reads NAME_FILE before NAME and names the variable when the file is unreadable", () => {
    const dir = mkdtempSync(join(tmpdir(), "ctfi-entry-"));
    writeFileSync(join(dir, "url"), "postgres://from-file/db\n");
    expect(readSetting({ X: "postgres://plain/db", X_FILE: join(dir, "url") }, "X")).toBe("postgres://from-file/db");
    expect(readSetting({ X: "postgres://plain/db" }, "X")).toBe("postgres://plain/db");
    expect(() => readSetting({ X_FILE: join(dir, "missing") }, "X")).toThrow(
      /X_FILE: cannot read .*missing \(ENOENT\)/,
    );
  });

  it("describes URLs without their credentials", () => {
    expect(describeUrl("postgres://user:s3cret@db:5432/app")).toBe("db:5432/app");
    expect(describeUrl("redis://:s3cret@redis")).toBe("redis:6379");
    expect(describeUrl("postgres://user:s3cret@db/app")).not.toContain("s3cret");
    expect(databaseName("postgres://u:p@db:5432/ctf_instancer")).toBe("ctf_instancer");
  });

  it("refuses to start without DATABASE_URL or REDIS_URL", async () => {
    await expect(prepare({}, { postgres: true }, () => {})).rejects.toThrow(/DATABASE_URL \(or DATABASE_URL_FILE\)/);
    await expect(prepare({}, { redis: true }, () => {})).rejects.toThrow(/REDIS_URL \(or REDIS_URL_FILE\)/);
  });
});

describe("PostgreSQL", () => {
  it("waits for a reachable server and creates a missing database once", async () => {
    const name = `ep_${randomBytes(5).toString("hex")}`;
    created.push(name);
    const url = urlWithDatabase(name);
    expect(await waitForPostgres(url, { timeoutMs: 5000 })).toEqual({ databaseExists: false });
    expect(await ensureDatabase(url)).toBe(true);
    expect(await databaseExists(name)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
    expect(await waitForPostgres(url, { timeoutMs: 5000 })).toEqual({ databaseExists: true });
  });

  it("gives up after the timeout with the address and the last error", async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await waitForPostgres(`postgres://u:secret@127.0.0.1:${port}/app`, {
      timeoutMs: 1500,
      intervalMs: 200,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(
      new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${port}/app not reachable within 2 s \\(last error: .*ECONNREFUSED`),
    );
    expect((err as Error).message).not.toContain("secret");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe("Redis and Docker", () => {
  it("waits for Redis, and names it when it does not answer", async () => {
    await waitForRedis(testEnv.redisUrl, { timeoutMs: 5000 });
    const port = await freePort();
    await expect(waitForRedis(`redis://127.0.0.1:${port}`, { timeoutMs: 800, intervalMs: 200 })).rejects.toThrow(
      new RegExp(`^Redis at 127\\.0\\.0\\.1:${port} not reachable within 1 s`),
    );
  });

  it("checks the Docker socket the worker will use", async () => {
    await waitForDocker({ DOCKER_HOST: `unix://${testEnv.dockerSocket}` }, { timeoutMs: 5000 });
    await expect(
      waitForDocker({ DOCKER_HOST: "unix:///nonexistent/docker.sock" }, { timeoutMs: 300, intervalMs: 100 }),
    ).rejects.toThrow(/^the Docker engine at \/nonexistent\/docker\.sock not reachable within .*ENOENT/);
  });

  it("reports the worker healthy when PostgreSQL and Redis answer, the API unhealthy when it does not serve", async () => {
    const env = { DATABASE_URL: testEnv.databaseUrl, REDIS_URL: testEnv.redisUrl };
    await expect(checkHealth("worker", env)).resolves.toMatch(/PostgreSQL and Redis answer/);
    const port = await freePort();
    await expect(checkHealth("api", { PORT: String(port) })).rejects.toThrow();
    await expect(checkHealth("", {})).resolves.toMatch(/nothing to check/);
  });
});

describe("docker/entrypoint.sh", () => {
  it("`migrate` creates the database and applies the migrations; a second run changes nothing", async () => {
    const name = `ep_${randomBytes(5).toString("hex")}`;
    created.push(name);
    const env = { APP_SOURCE: "source", DATABASE_URL: urlWithDatabase(name), WAIT_TIMEOUT_SECONDS: "10" };
    const first = await runEntrypoint(["migrate"], env);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`created database \\"${name}\\"`);
    expect(first.stdout).toContain("migrations applied");
    const second = await runEntrypoint(["migrate"], env);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain("schema up to date");
  });

  it("`api` exits non-zero, naming PostgreSQL and where, when the database never answers", async () => {
    const port = await freePort();
    const result = await runEntrypoint(["api"], {
      APP_SOURCE: "source",
      DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/app`,
      REDIS_URL: testEnv.redisUrl,
      API_TOKENS: "entrypoint-test-token-0123",
      WAIT_TIMEOUT_SECONDS: "1",
    });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(`PostgreSQL at 127.0.0.1:${port}/app not reachable within 1 s`);
  });

  it("runs any other command as given", async () => {
    const result = await runEntrypoint(["sh", "-c", "echo direct"], {});
    expect(result).toMatchObject({ code: 0, stdout: "direct\n" });
  });
});
