import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pruneLocal } from "../../../ops/backup/prune.ts";
import type { Candidate } from "../../../ops/backup/retention.ts";
import { isoWeekKey, planRetention } from "../../../ops/backup/retention.ts";
import { createLogger } from "../../../infra/logger.ts";
import type { Manifest } from "../../../ops/shared/manifest.ts";
import { artefactName, TOOL_NAME } from "../../../ops/shared/manifest.ts";
import { tempDir } from "../support/files.ts";

const log = createLogger("test-retention", "silent");
const none = { keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

/** One verified backup every `stepHours` going back from 2024-03-31 23:00 UTC. */
function series(count: number, stepHours: number): Candidate[] {
  const end = Date.UTC(2024, 2, 31, 23);
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(end - i * stepHours * 3600_000);
    return { name: artefactName("app", at, "custom"), at, verified: true };
  });
}

describe("retention plan", () => {
  it("keeps the last N and deletes the rest", () => {
    const all = series(10, 1);
    const plan = planRetention(all, { ...none, keepLast: 3 });
    expect(plan.keep.map((k) => k.name)).toEqual(all.slice(0, 3).map((c) => c.name));
    expect(plan.delete).toEqual(all.slice(3).map((c) => c.name));
  });

  it("keeps the newest of each of the last D days, W ISO weeks and M months", () => {
    const all = series(24 * 100, 1); // hourly for 100 days
    const plan = planRetention(all, { keepLast: 2, keepDaily: 3, keepWeekly: 2, keepMonthly: 3 });
    const kept = plan.keep.map((k) => `${k.name} ${k.reasons.join(",")}`);
    expect(kept).toEqual([
      "app-20240331T230000.000Z.dump newest,last,daily 2024-03-31,weekly 2024-W13,monthly 2024-03",
      "app-20240331T220000.000Z.dump last",
      "app-20240330T230000.000Z.dump daily 2024-03-30",
      "app-20240329T230000.000Z.dump daily 2024-03-29",
      "app-20240324T230000.000Z.dump weekly 2024-W12",
      "app-20240229T230000.000Z.dump monthly 2024-02",
      "app-20240131T230000.000Z.dump monthly 2024-01",
    ]);
    expect(plan.delete).toHaveLength(all.length - 7);
  });

  it("unverified backups neither count nor get deleted", () => {
    const all = series(4, 24);
    all[0]!.verified = false;
    const plan = planRetention(all, { ...none, keepLast: 1 });
    expect(plan.keep.map((k) => k.name)).toEqual([all[1]!.name]);
    expect(plan.ignored).toEqual([all[0]!.name]);
    expect(plan.delete).toEqual([all[2]!.name, all[3]!.name]);
  });

  it("never deletes the newest verified backup, even with a policy that keeps nothing", () => {
    const all = series(3, 24);
    const plan = planRetention(all, none);
    expect(plan.keep).toEqual([{ name: all[0]!.name, reasons: ["newest"] }]);
    expect(plan.delete).toHaveLength(2);
  });

  it("numbers ISO weeks across year boundaries", () => {
    expect(isoWeekKey(new Date("2021-01-03T12:00:00Z"))).toBe("2020-W53");
    expect(isoWeekKey(new Date("2024-12-30T00:00:00Z"))).toBe("2025-W01");
    expect(isoWeekKey(new Date("2024-03-24T23:00:00Z"))).toBe("2024-W12");
  });
});

describe("local retention", () => {
  async function dirWith(count: number) {
    const dir = await tempDir("retention");
    cleanups.push(dir.remove);
    const all = series(count, 24);
    for (const c of all) {
      await writeFile(join(dir.path, c.name), "dump");
      const manifest: Partial<Manifest> & { tool: string } = { tool: TOOL_NAME };
      await writeFile(join(dir.path, c.name + ".manifest.json"), JSON.stringify(validManifest(c.name, manifest)));
    }
    return { dir: dir.path, all };
  }

  it("dry-run reports the plan and deletes nothing; the real run deletes it; other files are never touched", async () => {
    const { dir, all } = await dirWith(5);
    const foreign = ["app-20200101T000000.000Z.dump.manual-copy", "notes.md", "app-20200101T000000.000Z.dump.tar"];
    for (const f of foreign) await writeFile(join(dir, f), "theirs");
    // ours by name, but no manifest: unverified, so left alone
    const orphan = artefactName("app", new Date(Date.UTC(2020, 0, 1)), "custom");
    await writeFile(join(dir, orphan), "unverified");

    const before = (await readdir(dir)).sort();
    const dry = await pruneLocal(dir, { ...none, keepLast: 2 }, { dryRun: true, log, database: "app" });
    expect(dry.delete).toEqual(all.slice(2).map((c) => c.name));
    expect(dry.ignored).toEqual([orphan]);
    expect((await readdir(dir)).sort()).toEqual(before);

    await pruneLocal(dir, { ...none, keepLast: 2 }, { dryRun: false, log, database: "app" });
    expect((await readdir(dir)).sort()).toEqual(
      [...foreign, orphan, ...all.slice(0, 2).flatMap((c) => [c.name, c.name + ".manifest.json"])].sort(),
    );
  });

  it("a manifest that does not match its file (size) does not make it a backup", async () => {
    const { dir, all } = await dirWith(2);
    await writeFile(join(dir, all[0]!.name), "a different size now");
    const plan = await pruneLocal(dir, { ...none, keepLast: 1 }, { dryRun: true, log, database: "app" });
    expect(plan.ignored).toEqual([all[0]!.name]);
    expect(plan.keep.map((k) => k.name)).toEqual([all[1]!.name]);
  });
});

function validManifest(file: string, extra: object): Manifest {
  return {
    tool: TOOL_NAME,
    toolVersion: "1",
    kind: "scheduled",
    runId: "r",
    database: "app",
    format: "custom",
    compression: "6",
    file,
    sizeBytes: 4,
    sha256: "0".repeat(64),
    serverVersion: { num: 150000, text: "15.0" },
    clientVersion: { num: 150000, text: "15.0" },
    startedAt: "2024-01-01T00:00:00.000Z",
    finishedAt: "2024-01-01T00:00:01.000Z",
    verified: true,
    verification: [],
    ...extra,
  } as Manifest;
}
