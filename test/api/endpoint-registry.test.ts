import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { endpoints } from "../../functions/index.ts";
import { buildOpenApi } from "../../http/openapi.ts";

const functionsDir = new URL("../../functions/", import.meta.url);

describe("functions/index.ts", () => {
  it("lists every endpoint file in functions/", async () => {
    const files = readdirSync(functionsDir).filter((f) => f.endsWith(".ts") && f !== "index.ts");
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const mod = (await import(new URL(file, functionsDir).href)) as { default: unknown };
      expect(endpoints, `${file} is not listed in functions/index.ts`).toContain(mod.default);
    }
    expect(endpoints).toHaveLength(files.length);
  });

  it("has no two endpoints on the same method and path", () => {
    const keys = endpoints.map((e) => `${e.method} ${e.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("describes every endpoint in the OpenAPI document, with auth where required", () => {
    const doc = buildOpenApi(endpoints, "test") as { paths: Record<string, Record<string, { security: unknown[] }>> };
    for (const ep of endpoints) {
      const op = doc.paths[ep.path.replace(/:(\w+)/g, "{$1}")]?.[ep.method.toLowerCase()];
      expect(op, `${ep.method} ${ep.path}`).toBeDefined();
      expect(op!.security.length > 0).toBe(ep.auth !== "public");
    }
  });
});
