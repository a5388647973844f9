import { defineConfig } from "vitest/config";

// Integration tests share one Docker engine, PostgreSQL and Redis; each file isolates itself (own database,
// queue prefix and container labels), so files run in parallel. Tests that restart the engine itself run in a
// later group, once everything else has finished.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: "suite", include: ["test/**/*.test.ts"], exclude: ["test/engine/**"] },
      },
      {
        extends: true,
        test: { name: "engine", include: ["test/engine/**/*.test.ts"], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
