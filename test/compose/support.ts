// Helpers for the compose tests: run Debian's docker-compose (v1) with a private env file and only the
// environment a user's tools need (the suite's engine, CA bundles, proxies), so a developer's .env or other shell
// variables never leak into what is validated.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolEnv } from "../support/env.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd: ROOT,
        env: { ...toolEnv(), ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Writes KEY=VALUE lines to a fresh temporary file and returns its path. */
export function writeEnvFile(values: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "ctfi-compose-"));
  const file = join(dir, "test.env");
  writeFileSync(
    file,
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
    { mode: 0o600 },
  );
  return file;
}

export function compose(files: string[], envFile: string, args: string[], timeoutMs?: number): Promise<RunResult> {
  const fileArgs = files.flatMap((f) => ["-f", join(ROOT, f)]);
  return run("docker-compose", [...fileArgs, "--project-directory", ROOT, "--env-file", envFile, ...args], {
    timeoutMs,
  });
}

/** Values that satisfy every required variable of compose.prod.yml (for validation only). */
export const PROD_VALUES: Record<string, string> = {
  COMPOSE_PROJECT_NAME: "ctfi_config_test",
  POSTGRES_PASSWORD: "config-test-password",
  REDIS_PASSWORD: "config-test-redis",
  API_TOKENS: "config-test-token-0123456789",
  PUBLIC_HOST: "ctf.example.org",
  DOCKER_GID: "999",
};
