import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { backupConfigSummary, loadBackupConfig } from "../../../ops/backup/config.ts";
import { schedulePeriodMs } from "../../../ops/backup/service.ts";
import { judgeHealth } from "../../../ops/backup/health.ts";
import { ConfigError } from "../../../ops/shared/config.ts";
import { majorOf, parseToolVersion } from "../../../ops/shared/postgres.ts";
import { tempDir } from "../support/files.ts";

const base = { DATABASE_URL: "postgres://backup:s3cret@db:5432/app" };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe("backup configuration", () => {
  it("applies the documented defaults", () => {
    const c = loadBackupConfig(base);
    expect(c).toMatchObject({
      BACKUP_DIR: "/backups",
      BACKUP_SCHEDULE: "0 * * * *",
      BACKUP_TIMEZONE: "UTC",
      BACKUP_FORMAT: "custom",
      BACKUP_COMPRESSION: "1",
      BACKUP_ON_START: true,
      BACKUP_KEEP_LAST: 7,
      BACKUP_LOCK_FILE: "/backups/.ops.lock",
      BACKUP_S3_CHECKSUM: "when_supported",
    });
    expect(schedulePeriodMs(c)).toBe(3600_000);
    expect(schedulePeriodMs(loadBackupConfig({ ...base, BACKUP_INTERVAL_SECONDS: "90" }))).toBe(90_000);
    expect(schedulePeriodMs(loadBackupConfig({ ...base, BACKUP_SCHEDULE: "30 2 * * *" }))).toBe(86_400_000);
  });

  it("judges an irregular schedule by its longest gap, the same at every hour of the week", () => {
    const c = loadBackupConfig({ ...base, BACKUP_SCHEDULE: "0 9-17 * * 1-5" });
    const periods = new Set<number>();
    // Friday 12:00, Friday 18:00, Saturday, Monday 08:00 UTC: the answer must not depend on when it is asked.
    for (const now of [
      "2026-01-02T12:00:00Z",
      "2026-01-02T18:00:00Z",
      "2026-01-03T10:00:00Z",
      "2026-01-05T08:00:00Z",
    ]) {
      vi.useFakeTimers({ now: new Date(now), toFake: ["Date"] });
      try {
        periods.add(schedulePeriodMs(c));
      } finally {
        vi.useRealTimers();
      }
    }
    expect([...periods]).toEqual([64 * 3600_000]); // Friday 17:00 to Monday 09:00
  });

  it("reads secrets from *_FILE and never logs them", async () => {
    const dir = await tempDir("backup-config");
    cleanups.push(dir.remove);
    await writeFile(join(dir.path, "url"), "postgres://backup:fromfile@db/app\n");
    await writeFile(join(dir.path, "key"), "AKIA-secret-key\n");
    const c = loadBackupConfig({
      DATABASE_URL_FILE: join(dir.path, "url"),
      BACKUP_S3_BUCKET: "backups",
      BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLEKEYID",
      BACKUP_S3_SECRET_ACCESS_KEY_FILE: join(dir.path, "key"),
    });
    expect(c.DATABASE_URL).toBe("postgres://backup:fromfile@db/app");
    expect(c.BACKUP_S3_SECRET_ACCESS_KEY).toBe("AKIA-secret-key");
    const summary = JSON.stringify(backupConfigSummary(c));
    expect(summary).not.toContain("fromfile");
    expect(summary).not.toContain("AKIA-secret-key");
    expect(summary).not.toContain("AKIAEXAMPLEKEYID");
    expect(summary).toContain("BACKUP_S3_BUCKET");
  });

  it.each([
    ["BACKUP_SCHEDULE", { BACKUP_SCHEDULE: "every day" }],
    ["BACKUP_SCHEDULE", { BACKUP_SCHEDULE: "0 * * * *", BACKUP_INTERVAL_SECONDS: "60" }],
    ["BACKUP_TIMEZONE", { BACKUP_TIMEZONE: "Mars/Olympus" }],
    ["BACKUP_COMPRESSION", { BACKUP_FORMAT: "plain", BACKUP_COMPRESSION: "zstd:3" }],
    ["BACKUP_COMPRESSION", { BACKUP_FORMAT: "plain", BACKUP_COMPRESSION: "0" }],
    ["BACKUP_KEEP_LAST", { BACKUP_KEEP_LAST: "0" }],
    ["BACKUP_DIR", { BACKUP_DIR: "relative/dir" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["BACKUP_S3_CHECKSUM", { BACKUP_S3_CHECKSUM: "always" }],
    ["DATABASE_URL_FILE", { DATABASE_URL_FILE: "/nonexistent/secret" }],
  ])("names %s when it is invalid (%o)", (name, patch) => {
    expect(() => loadBackupConfig({ ...base, ...patch })).toThrow(ConfigError);
    expect(() => loadBackupConfig({ ...base, ...patch })).toThrow(new RegExp(`\\b${name}\\b`));
  });
});

describe("versions and health rules", () => {
  it("reads client versions of every era and orders majors", () => {
    expect(parseToolVersion("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)").num).toBe(150018);
    expect(parseToolVersion("pg_dump (PostgreSQL) 9.6.24").num).toBe(90624);
    expect(parseToolVersion("pg_dump (PostgreSQL) 18beta1").num).toBe(180000);
    expect(majorOf(90624)).toBeLessThan(majorOf(100001));
    expect(majorOf(150018)).toBe(majorOf(150002));
    expect(() => parseToolVersion("bash: pg_dump: not found")).toThrow(/cannot read a PostgreSQL version/);
  });

  it("is unhealthy when the last good backup is older than the limit", () => {
    const now = new Date("2024-01-01T12:00:00Z");
    const lastGoodAt = new Date("2024-01-01T09:00:00Z");
    expect(judgeHealth({ startedAt: lastGoodAt, lastGoodAt }, 4 * 3600_000, now).healthy).toBe(true);
    const stale = judgeHealth({ startedAt: lastGoodAt, lastGoodAt }, 2 * 3600_000, now);
    expect(stale.healthy).toBe(false);
    expect(stale.reasons[0]).toMatch(/10800 s old \(limit 7200 s\)/);
    expect(judgeHealth({ startedAt: lastGoodAt }, 2 * 3600_000, now).reasons[0]).toMatch(/no good backup/);
  });
});
