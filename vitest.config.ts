import { defineConfig } from "vitest/config";

// Integration tests share the suite's own Docker engine, PostgreSQL and Redis; each file isolates itself (own
// database, queue prefix and container labels, or an engine of its own), so files run in parallel. The check that
// the machine was left alone runs in a later group, once everything else has finished.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    // The dashboard and team page, built as `npm run build:web` builds them, for the tests that load them.
    globalSetup: ["test/browser/build-pages.ts"],
    projects: [
      {
        extends: true,
        test: { name: "suite", include: ["test/**/*.test.ts"], exclude: ["test/machine/**"] },
      },
      {
        extends: true,
        test: { name: "machine", include: ["test/machine/**/*.test.ts"], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
