import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadApiConfig, loadWorkerConfig, SECRET_SETTINGS } from "../../infra/config.ts";
import { redactConfig } from "../../infra/redact.ts";
import { ConfigError } from "../../infra/env.ts";

const base = {
  DATABASE_URL: "postgres://app:hunter2@db:5432/app",
  REDIS_URL: "redis://redis:6379",
  API_TOKENS: "aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb",
};

describe("configuration", () => {
  it("applies the documented defaults", () => {
    const cfg = loadApiConfig(base);
    expect(cfg).toMatchObject({ PORT: 5000, PUBLIC_HOST: "localhost", ASSIGN_WAIT_SECONDS: 30 });
    expect(cfg.API_TOKENS).toEqual(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
    const worker = loadWorkerConfig(base);
    expect(worker.PORT_BIND_ADDRESS).toBe("0.0.0.0");
    expect(worker.PORT_CHECK_HOST).toBe("127.0.0.1");
    expect(loadWorkerConfig({ ...base, PORT_BIND_ADDRESS: "127.0.0.2" }).PORT_CHECK_HOST).toBe("127.0.0.2");
  });

  it.each([
    ["PORT", { PORT: "70000" }],
    ["PORT", { PORT: "abc" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["DATABASE_URL", { DATABASE_URL: undefined }],
    ["REDIS_URL", { REDIS_URL: "" }],
    ["API_TOKENS", { API_TOKENS: "short" }],
    ["API_TOKENS", { API_TOKENS: " , " }],
    ["ASSIGN_WAIT_SECONDS", { ASSIGN_WAIT_SECONDS: "-1" }],
    ["PUBLIC_HOST", { PUBLIC_HOST: "http://x" }],
  ])("names %s when it is invalid (%o)", (name, patch) => {
    expect(() => loadApiConfig({ ...base, ...patch })).toThrow(ConfigError);
    expect(() => loadApiConfig({ ...base, ...patch })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it("names PORT_BIND_ADDRESS when it is not an address", () => {
    expect(() => loadWorkerConfig({ ...base, PORT_BIND_ADDRESS: "everywhere" })).toThrow(/PORT_BIND_ADDRESS/);
  });

  it("reads secrets from *_FILE variants", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    writeFileSync(join(dir, "tokens"), "from-a-file-0123456789\n");
    const cfg = loadApiConfig({ ...base, API_TOKENS: undefined, API_TOKENS_FILE: join(dir, "tokens") });
    expect(cfg.API_TOKENS).toEqual(["from-a-file-0123456789"]);
    expect(() => loadApiConfig({ ...base, API_TOKENS_FILE: join(dir, "missing") })).toThrow(/API_TOKENS_FILE/);
  });

  it("redacts passwords and tokens for logging", () => {
    const shown = JSON.stringify(redactConfig(loadApiConfig(base), SECRET_SETTINGS));
    expect(shown).not.toContain("hunter2");
    expect(shown).not.toContain("aaaaaaaaaaaaaaaa");
    expect(shown).toContain("db:5432");
  });

  it("the API process exits non-zero with a message naming the variable", () => {
    const res = spawnSync(process.execPath, ["api/main.ts"], {
      env: { PATH: process.env.PATH, ...base, PORT: "not-a-port" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/PORT/);
    expect(res.stdout + res.stderr).not.toContain("hunter2");
  });

  it("the worker process exits non-zero when REDIS_URL is missing", () => {
    const res = spawnSync(process.execPath, ["worker/main.ts"], {
      env: { PATH: process.env.PATH, DATABASE_URL: base.DATABASE_URL },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/REDIS_URL/);
  });
});
