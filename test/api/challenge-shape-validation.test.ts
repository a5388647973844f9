import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalogue } from "../../api/catalogue.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { holdAnswersToDocument } from "./openapi-check.ts";

const image = WEB100.image;
const two = (extra: object = {}) => ({
  containers: [
    { name: "web", image },
    { name: "db", image, memory_mb: 64 },
  ],
  expose: [{ container: "web", port: 80 }],
  ...extra,
});

describe("challenge shapes are validated where they are saved", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  const put = (body: object) => stack.request("PUT", "/challenges/shape", { body });
  const refusal = async (body: object) => {
    const res = await put(body);
    expect(res.status).toBe(400);
    return res.body.error.message as string;
  };

  it("refuses a repeated name, an exposure naming no container, a port out of range, naming the field", async () => {
    expect(
      await refusal(
        two({
          containers: [
            { name: "web", image },
            { name: "web", image },
          ],
        }),
      ),
    ).toMatch(/'containers\.1\.name': 'web' repeats/);
    expect(await refusal(two({ expose: [{ container: "cache", port: 80 }] }))).toMatch(
      /'expose\.0\.container': 'cache' names no container/,
    );
    expect(await refusal(two({ expose: [{ container: "web", port: 70000 }] }))).toMatch(/expose\.0\.port/);
    expect(await refusal(two({ expose: [{ container: "web", port: 80, protocol: "udp" }] }))).toMatch(
      /expose\.0\.protocol/,
    );
    expect(await refusal(two({ containers: [{ name: "Web_1", image }] }))).toMatch(
      /'containers\.0\.name': must be a DNS label/,
    );
  });

  it("refuses mixing the two forms, or half of either", async () => {
    expect(await refusal(two({ image }))).toMatch(/'image': belongs to the single-container form/);
    expect(await refusal({ containers: two().containers })).toMatch(/'expose': is required with containers/);
    expect(await refusal({ image, expose: [{ container: "main", port: 80 }] })).toMatch(/'expose': needs containers/);
    expect(await refusal({ image })).toMatch(/'port': is required/);
    expect(await refusal({ port: 80 })).toMatch(/'image': is required/);
  });

  it("saves both forms and shows every container with its settings resolved, env values hidden", async () => {
    const saved = await put(two({ env: { SECRET: "s" }, memory_mb: 128 }));
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ image, port: 80, protocol: "http" });
    expect(saved.body.containers).toEqual([
      expect.objectContaining({ name: "web", memory_mb: 128, env_keys: ["SECRET"], command: null }),
      expect.objectContaining({ name: "db", memory_mb: 64, env_keys: ["SECRET"] }),
    ]);
    expect(saved.body.expose).toEqual([{ container: "web", port: 80, protocol: "http" }]);
    expect(JSON.stringify(saved.body)).not.toContain('"s"');
    const single = await stack.request("PUT", "/challenges/single", { body: { image, port: 1337, protocol: "tcp" } });
    expect(single.body.containers).toEqual([expect.objectContaining({ name: "main", image })]);
    expect(single.body.expose).toEqual([{ container: "main", port: 1337, protocol: "tcp" }]);
  });

  it("CHALLENGES_FILE is held to the same rules", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ctfi-cat-")), "challenges.json");
    writeFileSync(
      file,
      JSON.stringify({
        challenges: [
          {
            id: "dup",
            ...two({
              containers: [
                { name: "a", image },
                { name: "a", image },
              ],
            }),
          },
        ],
      }),
    );
    await expect(loadCatalogue(stack.api.deps.db, file, stack.apiConfig())).rejects.toThrow(
      /challenges\.0\.containers\.1\.name: 'a' repeats/,
    );
  });
});
