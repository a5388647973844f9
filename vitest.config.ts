import { defineConfig } from "vitest/config";

// Integration tests share one Docker engine, PostgreSQL and Redis; each file isolates itself
// (own database, own queue prefix, own container labels), so files may run in parallel.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    fileParallelism: true,
  },
});
