// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report.
import { readFileSync } from "node:fs";

function counts(file: string): { passed: number; failed: number } {
  try {
    const report = JSON.parse(readFileSync(file, "utf8")) as { numPassedTests: number; numFailedTests: number };
    return { passed: report.numPassedTests, failed: report.numFailedTests };
  } catch {
    return { passed: 0, failed: 1 }; // no report means the run itself broke
  }
}

const { passed, failed } = counts(process.argv[2] ?? "test-results.json");
console.log(`${passed} passed, ${failed} failed`);
