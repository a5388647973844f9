import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadApiConfig, SECRET_SETTINGS } from "../../infra/config.ts";
import { redactConfig } from "../../infra/redact.ts";

const base = {
  DATABASE_URL: "postgres://app:pw@db:5432/app",
  REDIS_URL: "redis://redis:6379",
  API_TOKENS: "aaaaaaaaaaaaaaaa",
};

describe("rCTF configuration", () => {
  it("is off without RCTF_AUTH_TOKEN, and mounted at /rctf by default", () => {
    const cfg = loadApiConfig(base);
    expect(cfg.RCTF_AUTH_TOKEN).toBeUndefined();
    expect(cfg.RCTF_BASE_PATH).toBe("/rctf");
  });

  it("reads the token from RCTF_AUTH_TOKEN_FILE, and never logs it", () => {
    const dir = mkdtempSync(join(tmpdir(), "rctf-"));
    writeFileSync(join(dir, "token"), "rctf-token-from-a-file-0123\n");
    const cfg = loadApiConfig({
      ...base,
      RCTF_AUTH_TOKEN: "ignored-when-a-file-is-given",
      RCTF_AUTH_TOKEN_FILE: join(dir, "token"),
    });
    expect(cfg.RCTF_AUTH_TOKEN).toBe("rctf-token-from-a-file-0123");
    expect(JSON.stringify(redactConfig(cfg, SECRET_SETTINGS))).not.toContain("rctf-token-from-a-file");
    expect(() => loadApiConfig({ ...base, RCTF_AUTH_TOKEN_FILE: join(dir, "missing") })).toThrow(
      /RCTF_AUTH_TOKEN_FILE/,
    );
  });

  it.each([
    ["RCTF_AUTH_TOKEN", { RCTF_AUTH_TOKEN: "short" }],
    ["RCTF_BASE_PATH", { RCTF_BASE_PATH: "rctf" }],
    ["RCTF_BASE_PATH", { RCTF_BASE_PATH: "/rctf/" }],
    ["RCTF_BASE_PATH", { RCTF_BASE_PATH: "/" }],
    ["RCTF_BASE_PATH", { RCTF_BASE_PATH: "/a b" }],
  ])("names %s when it is invalid (%o)", (name, patch) => {
    expect(() => loadApiConfig({ ...base, ...patch })).toThrow(new RegExp(`\\b${name}\\b`));
  });
});
