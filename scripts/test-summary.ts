// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-results.json";
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(file, "utf8")) as { numPassedTests: number; numFailedTests: number };
  passed = report.numPassedTests;
  failed = report.numFailedTests;
} catch {
  failed = 1; // no report means the run itself broke
}
console.log(`${passed} passed, ${failed} failed`);
