import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../infra/env.ts";
import { loadApiConfig, SECRET_SETTINGS } from "../../infra/config.ts";
import { redactConfig } from "../../infra/redact.ts";

const base = {
  DATABASE_URL: "postgres://app:pw@db:5432/app",
  REDIS_URL: "redis://redis:6379",
  API_TOKENS: "aaaaaaaaaaaaaaaa",
};
const TOKEN = "gateway-route-token-0123456789abcdef";

describe("GATEWAY_ROUTE_TOKEN (the API's side of route lookups)", () => {
  it("is unset by default and when empty, as Compose passes it to a stack without web names", () => {
    expect(loadApiConfig(base).GATEWAY_ROUTE_TOKEN).toBeUndefined();
    expect(loadApiConfig({ ...base, GATEWAY_ROUTE_TOKEN: "" }).GATEWAY_ROUTE_TOKEN).toBeUndefined();
  });

  it("is read from GATEWAY_ROUTE_TOKEN_FILE and never shown in the logged configuration", () => {
    const dir = mkdtempSync(join(tmpdir(), "route-token-"));
    try {
      writeFileSync(join(dir, "token"), `${TOKEN}\n`);
      const cfg = loadApiConfig({
        ...base,
        GATEWAY_ROUTE_TOKEN: "x".repeat(40),
        GATEWAY_ROUTE_TOKEN_FILE: join(dir, "token"),
      });
      expect(cfg.GATEWAY_ROUTE_TOKEN).toBe(TOKEN);
      expect(JSON.stringify(redactConfig(cfg, SECRET_SETTINGS))).not.toContain(TOKEN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an empty CHALLENGE_DOMAIN is unset too; a malformed one is refused", () => {
    expect(loadApiConfig({ ...base, CHALLENGE_DOMAIN: "" }).CHALLENGE_DOMAIN).toBeUndefined();
    expect(loadApiConfig({ ...base, CHALLENGE_DOMAIN: "chals.example.org" }).CHALLENGE_DOMAIN).toBe(
      "chals.example.org",
    );
    expect(() => loadApiConfig({ ...base, CHALLENGE_DOMAIN: "Chals.Example.org" })).toThrow(/CHALLENGE_DOMAIN/);
  });

  it("refuses a short token or one with characters the gateway's configuration cannot carry", () => {
    for (const bad of ["short", `${TOKEN}"`, `${TOKEN};`, `${TOKEN}$x`, `${TOKEN} x`]) {
      expect(() => loadApiConfig({ ...base, GATEWAY_ROUTE_TOKEN: bad }), bad).toThrow(ConfigError);
      try {
        loadApiConfig({ ...base, GATEWAY_ROUTE_TOKEN: bad });
      } catch (err) {
        expect((err as Error).message).toContain("GATEWAY_ROUTE_TOKEN");
        expect((err as Error).message).not.toContain(TOKEN);
      }
    }
  });
});
