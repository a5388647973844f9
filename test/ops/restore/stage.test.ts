import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { stageFile } from "../../../ops/restore/stage.ts";
import { tempDir } from "../support/files.ts";

const dirs: { remove: () => Promise<void> }[] = [];
afterAll(() => Promise.all(dirs.map((d) => d.remove())));

async function scratch() {
  const dir = await tempDir("restore-stage");
  dirs.push(dir);
  return dir.path;
}

/** A plain dump of about 1 MB: the version line at its top, the trailer at its end, far apart. */
const plainText = [
  "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.18\n\n",
  "INSERT INTO t VALUES (1);\n".repeat(40_000),
  "--\n-- PostgreSQL database dump complete\n--\n\n",
].join("");

describe("stageFile", () => {
  it("decompresses a gzipped plain dump into the work directory and keeps both ends of its text, in one pass", async () => {
    const dir = await scratch();
    const path = join(dir, "in.sql.gz");
    await writeFile(path, gzipSync(plainText));
    const staged = await stageFile(path, join(dir, "work"), { kind: "plain", gzipped: true });
    expect(staged.path).toBe(join(dir, "work"));
    expect(await readFile(staged.path, "utf8")).toBe(plainText);
    expect(staged.text?.head).toMatch(/Dumped from database version 15\.18/);
    expect(staged.text?.head.length).toBe(8192);
    expect(staged.text?.tail).toMatch(/-- PostgreSQL database dump complete\n--\n\n$/);
  });

  it("reads an uncompressed plain dump where it lies, copying nothing", async () => {
    const dir = await scratch();
    const path = join(dir, "in.sql");
    await writeFile(path, plainText);
    const staged = await stageFile(path, join(dir, "work"), { kind: "plain", gzipped: false });
    expect(staged.path).toBe(path);
    expect(staged.text?.tail).toMatch(/dump complete/);
  });

  it("leaves an uncompressed custom archive where it lies, unread; copies SQLite into the work directory", async () => {
    const dir = await scratch();
    const path = join(dir, "in.bin");
    await writeFile(path, "PGDMP…");
    expect(await stageFile(path, join(dir, "work"), { kind: "custom", gzipped: false })).toEqual({ path });
    const copy = await stageFile(path, join(dir, "copy"), { kind: "sqlite", gzipped: false });
    expect(copy).toEqual({ path: join(dir, "copy") });
    expect(await readFile(copy.path, "utf8")).toBe("PGDMP…");
  });

  it("refuses a gzip stream cut short", async () => {
    const dir = await scratch();
    const path = join(dir, "cut.sql.gz");
    const whole = gzipSync(plainText);
    await writeFile(path, whole.subarray(0, whole.length - 100));
    await expect(stageFile(path, join(dir, "work"), { kind: "plain", gzipped: true })).rejects.toThrow(
      /^decompress test failed: /,
    );
  });
});
