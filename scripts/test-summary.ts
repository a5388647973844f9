// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report and the runner's exit code.
// A file that failed to load or whose setup failed counts as failed even when none of its tests could report, and
// a run that exited non-zero never reads `0 failed`.
import { readFileSync } from "node:fs";

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { status: string; assertionResults: { status: string }[] }[];
}

function counts(file: string, exitCode: number): { passed: number; failed: number } {
  let report: Report;
  try {
    report = JSON.parse(readFileSync(file, "utf8")) as Report;
  } catch {
    return { passed: 0, failed: 1 }; // no report means the run itself broke
  }
  const brokenFiles = report.testResults.filter(
    (f) => f.status === "failed" && !f.assertionResults.some((t) => t.status === "failed"),
  ).length;
  const failed = report.numFailedTests + brokenFiles;
  return { passed: report.numPassedTests, failed: exitCode !== 0 && failed === 0 ? 1 : failed };
}

const [file = "test-results.json", exitCode = "0"] = process.argv.slice(2);
const { passed, failed } = counts(file, Number(exitCode));
console.log(`${passed} passed, ${failed} failed`);
