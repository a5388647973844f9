import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openJournal } from "../../../ops/restore/journal.ts";
import type { Journal } from "../../../ops/restore/state.ts";
import { readState } from "../../../ops/restore/state.ts";
import { tempDir } from "../support/files.ts";

const dirs: { remove: () => Promise<void> }[] = [];
afterAll(() => Promise.all(dirs.map((d) => d.remove())));

async function stateFile() {
  const dir = await tempDir("restore-journal");
  dirs.push(dir);
  return join(dir.path, "state", "restore-state.json");
}

const plan: Journal = {
  runId: "r1",
  file: "/backups/restore/incoming/a.dump",
  sha256: "0".repeat(64),
  size: 1,
  startedAt: "2026-01-01T00:00:00.000Z",
  phase: "stopping",
  stopped: ["web"],
  maintenance: true,
};

describe("the journal of a run", () => {
  it("is on disk at each phase boundary, and closed with the file in the history", async () => {
    const path = await stateFile();
    const journal = openJournal(path);
    await journal.begin(plan);
    expect((await readState(path)).current).toEqual(plan);
    await journal.advance({ phase: "restoring", newDatabase: "app__restore_1" });
    expect((await readState(path)).current).toMatchObject({ phase: "restoring", newDatabase: "app__restore_1" });
    await journal.close({ file: "a.dump", sha256: plan.sha256, size: 1, status: "ok", at: plan.startedAt });
    expect(await readState(path)).toEqual({
      processed: [{ file: "a.dump", sha256: plan.sha256, size: 1, status: "ok", at: plan.startedAt }],
      current: null,
    });
    expect(journal.current).toBeNull();
  });

  it("holds nothing when the first record never reached the disk: nothing was stopped", async () => {
    const path = await stateFile();
    await mkdir(path, { recursive: true }); // a directory where the file should be: unreadable, unwritable
    const journal = openJournal(path);
    await expect(journal.begin(plan)).rejects.toThrow();
    expect(journal.current).toBeNull();
  });

  it("holds a later record in memory even when the disk refuses it, so the run's clean-up knows what it did", async () => {
    const path = await stateFile();
    const journal = openJournal(path);
    await journal.begin(plan);
    await rm(path);
    await mkdir(path);
    await expect(journal.advance({ phase: "swapped" })).rejects.toThrow();
    expect(journal.current?.phase).toBe("swapped");
  });

  it("keeps the history of earlier runs, and finds no interrupted run after a closed one", async () => {
    const path = await stateFile();
    const at = plan.startedAt;
    const first = openJournal(path);
    await first.begin(plan);
    await first.close({ file: "a.dump", sha256: plan.sha256, size: 1, status: "ok", at });
    const second = openJournal(path);
    expect(await second.interrupted()).toBeNull();
    await second.begin({ ...plan, runId: "r2" });
    await second.close({ file: "b.dump", sha256: plan.sha256, size: 1, status: "failed", at });
    expect((await readState(path)).processed.map((p) => p.file)).toEqual(["a.dump", "b.dump"]);
  });
});
