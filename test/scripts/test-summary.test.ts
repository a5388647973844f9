// The closing line CI reads must agree with what happened: broken files count, a failed run never says 0 failed.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const SCRIPT = new URL("../../scripts/test-summary.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "ctfi-summary-"));

async function summary(report: object | null, exitCode: number): Promise<string> {
  const file = join(dir, `report-${Math.random()}.json`);
  if (report) writeFileSync(file, JSON.stringify(report));
  const { stdout } = await run(process.execPath, [SCRIPT, file, String(exitCode)]);
  return stdout.trim();
}

const file = (status: string, tests: string[]) => ({ status, assertionResults: tests.map((s) => ({ status: s })) });

describe("scripts/test-summary.ts", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("counts the runner's passed and failed tests", async () => {
    const report = {
      numPassedTests: 3,
      numFailedTests: 1,
      testResults: [file("passed", ["passed", "passed"]), file("failed", ["passed", "failed"])],
    };
    expect(await summary(report, 1)).toBe("3 passed, 1 failed");
  });

  it("counts a file that failed to load or whose setup failed, though none of its tests reported", async () => {
    const report = {
      numPassedTests: 2,
      numFailedTests: 0,
      testResults: [file("passed", ["passed"]), file("failed", [])],
    };
    expect(await summary(report, 1)).toBe("2 passed, 1 failed");
  });

  it("never says 0 failed for a run that exited non-zero, nor reads a missing report as a pass", async () => {
    expect(await summary({ numPassedTests: 5, numFailedTests: 0, testResults: [] }, 1)).toBe("5 passed, 1 failed");
    expect(await summary(null, 0)).toBe("0 passed, 1 failed");
    expect(await summary({ numPassedTests: 5, numFailedTests: 0, testResults: [] }, 0)).toBe("5 passed, 0 failed");
  });
});
