import { describe, expect, it } from "vitest";
import { createDb, withExclusiveLock, withTransaction } from "../../infra/db.ts";
import { testEnv } from "../support/env.ts";

describe("database pool", () => {
  it("a request queues for a busy pool past the connect timeout instead of failing", async () => {
    const db = createDb(testEnv.databaseUrl, { max: 1 });
    try {
      const holder = withTransaction(db, async (tx) => {
        await tx.query("SELECT pg_sleep(2.5)");
      });
      const started = Date.now();
      const { rows } = await db.query("SELECT 1 AS one");
      expect(rows[0].one).toBe(1);
      expect(Date.now() - started).toBeGreaterThan(2000);
      await holder;
    } finally {
      await db.end();
    }
  });

  it("an exclusive lock runs one holder at a time and refuses another at once", async () => {
    const db = createDb(testEnv.databaseUrl, { max: 2 });
    const other = createDb(testEnv.databaseUrl, { max: 2 });
    const key = `test:${Math.random()}`;
    try {
      let release!: () => void;
      const first = withExclusiveLock(db, key, () => new Promise<string>((r) => (release = () => r("first"))));
      await new Promise((r) => setTimeout(r, 100));
      expect(await withExclusiveLock(other, key, async () => "second")).toBeNull();
      release();
      expect(await first).toEqual({ value: "first" });
      expect(await withExclusiveLock(other, key, async () => "third")).toEqual({ value: "third" });
    } finally {
      await db.end();
      await other.end();
    }
  });

  it("a database that does not answer fails within the connect timeout", async () => {
    // A port nothing listens on: refused at once.
    const db = createDb("postgres://postgres@127.0.0.1:1/postgres");
    try {
      const started = Date.now();
      await expect(db.query("SELECT 1")).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await db.end();
    }
  });
});
