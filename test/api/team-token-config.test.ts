import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadApiConfig, SECRET_SETTINGS } from "../../infra/config.ts";
import { redactConfig } from "../../infra/redact.ts";

const base = {
  DATABASE_URL: "postgres://app@db:5432/app",
  REDIS_URL: "redis://redis:6379",
  API_TOKENS: "aaaaaaaaaaaaaaaa",
};
const SECRET = "s3cret-team-key-0123456789abcdef0123";

describe("team token and page settings", () => {
  it("needs a TEAM_TOKEN_SECRET of at least 32 characters, read from a file too, and never shows it", () => {
    expect(() => loadApiConfig({ ...base, TEAM_TOKEN_SECRET: "short" })).toThrow(/TEAM_TOKEN_SECRET/);
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    writeFileSync(join(dir, "team-key"), `${SECRET}\n`);
    const cfg = loadApiConfig({ ...base, TEAM_TOKEN_SECRET_FILE: join(dir, "team-key") });
    expect(cfg.TEAM_TOKEN_SECRET).toBe(SECRET);
    expect(JSON.stringify(redactConfig(cfg, SECRET_SETTINGS))).not.toContain(SECRET);
    expect(loadApiConfig(base).TEAM_TOKEN_SECRET).toBeUndefined();
  });

  it("takes frame ancestors as 'none', 'self' or origins, and refuses anything that could extend the policy", () => {
    expect(loadApiConfig(base).TEAM_PAGE_FRAME_ANCESTORS).toBe("'none'");
    const ok = "'self' https://ctf.example.org http://localhost:8080";
    expect(loadApiConfig({ ...base, TEAM_PAGE_FRAME_ANCESTORS: ok }).TEAM_PAGE_FRAME_ANCESTORS).toBe(ok);
    for (const bad of ["*", "https://a.example; script-src *", "javascript:alert(1)", "ctf.example.org"])
      expect(() => loadApiConfig({ ...base, TEAM_PAGE_FRAME_ANCESTORS: bad }), bad).toThrow(
        /TEAM_PAGE_FRAME_ANCESTORS/,
      );
  });
});
