import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runTool } from "../../../ops/shared/process.ts";

const root = join(import.meta.dirname, "..", "..", "..");

async function composeConfig(files: string[], env: Record<string, string> = {}) {
  const args = files.flatMap((f) => ["-f", join(root, f)]);
  const r = await runTool("docker-compose", [...args, "config"], {
    env: { ...process.env, COMPOSE_PROJECT_NAME: "opstest", ...env },
  });
  expect(r.stderr).not.toMatch(/ERROR/);
  expect(r.code).toBe(0);
  return parse(r.stdout) as { services: Record<string, any>; volumes: Record<string, unknown> };
}

/**
 * Every variable a runbook's configuration table names, with its shorthands expanded: `BACKUP_KEEP_LAST` /
 * `_DAILY` is BACKUP_KEEP_DAILY, `BACKUP_PING_URL` / `_FILE` and `NAME` (`_FILE`) add NAME_FILE.
 */
async function documentedVariables(runbook: string, pattern: RegExp): Promise<string[]> {
  const doc = await readFile(join(root, runbook), "utf8");
  const table = doc.slice(doc.indexOf("## Configuration"), doc.indexOf("\n## ", doc.indexOf("## Configuration") + 1));
  const names = new Set<string>();
  for (const row of table.split("\n").filter((l) => l.startsWith("| `"))) {
    const cell = row.split(" | ")[0]!;
    let first = "";
    let last = "";
    for (const [, token] of cell.matchAll(/`([A-Z0-9_]+)`/g)) {
      let name = token!;
      if (name === "_FILE") name = last + name;
      else if (name.startsWith("_")) name = first.replace(/_[A-Z]+$/, "") + name;
      else first ||= name;
      names.add(name);
      last = name;
    }
  }
  return [...names].filter((n) => pattern.test(n)).sort();
}

const documentedBackupVariables = () => documentedVariables("docs/ops-backup.md", /^(BACKUP_|DATABASE_URL)/);

describe("compose.backup.yml", () => {
  it("passes every variable of docs/ops-backup.md to db-backup (or fixes it, saying so)", async () => {
    const documented = await documentedBackupVariables();
    expect(documented).toEqual(expect.arrayContaining(["BACKUP_KEEP_DAILY", "BACKUP_PING_URL_FILE"]));
    expect(documented.length).toBeGreaterThan(35);
    // Set in compose itself: the backups volume and the lock shared with db-restore; the image tag.
    const fixed: Record<string, string> = { BACKUP_DIR: "/backups", BACKUP_LOCK_FILE: "/backups/.ops.lock" };
    // compose.backup.yml names the database URL BACKUP_DATABASE_URL in the env file (compose.prod.yml has its own).
    const envName = (n: string) => (n.startsWith("DATABASE_URL") ? `BACKUP_${n}` : n);
    const composeOnly = ["BACKUP_IMAGE", "BACKUP_SECRETS_DIR"];
    const passed = documented.filter((n) => !(n in fixed) && !composeOnly.includes(n));
    const env = Object.fromEntries(passed.map((n) => [envName(n), `value-of-${n}`]));
    const cfg = await composeConfig(["compose.backup.yml"], {
      ...env,
      BACKUP_IMAGE: "registry.example/backup:2",
      BACKUP_SECRETS_DIR: "/srv/ctf/backup-secrets",
    });
    const got = cfg.services["db-backup"].environment as Record<string, string>;
    for (const n of passed) expect(got[n], n).toBe(`value-of-${n}`);
    for (const [n, v] of Object.entries(fixed)) expect(got[n], n).toBe(v);
    expect(cfg.services["db-backup"].image).toBe("registry.example/backup:2");
    // The *_FILE variables name files in a read-only directory the operator fills.
    expect(cfg.services["db-backup"].volumes).toContain("/srv/ctf/backup-secrets:/run/secrets/backup:ro");
  });

  it("passes every variable of docs/ops-restore.md to db-restore (or fixes it, saying so)", async () => {
    const documented = await documentedVariables("docs/ops-restore.md", /^RESTORE_/);
    expect(documented).toEqual(expect.arrayContaining(["RESTORE_DATABASE_URL_FILE", "RESTORE_START_TIMEOUT_SECONDS"]));
    // Set in compose itself: the drop directory and pre-restore backups on the backups volume, the lock shared with
    // db-backup, and the project whose services it stops.
    const fixed: Record<string, string> = {
      RESTORE_WATCH_DIR: "/backups/restore",
      RESTORE_PRE_BACKUP_DIR: "/backups/pre-restore",
      RESTORE_LOCK_FILE: "/backups/.ops.lock",
      RESTORE_COMPOSE_PROJECT: "opstest",
    };
    const passed = documented.filter((n) => !(n in fixed) && n !== "RESTORE_SECRETS_DIR");
    const env = Object.fromEntries(passed.map((n) => [n, `value-of-${n}`]));
    const cfg = await composeConfig(["compose.backup.yml"], {
      ...env,
      RESTORE_SECRETS_DIR: "/srv/ctf/restore-secrets",
    });
    const got = cfg.services["db-restore"].environment as Record<string, string>;
    for (const n of passed) expect(got[n], n).toBe(`value-of-${n}`);
    for (const [n, v] of Object.entries(fixed)) expect(got[n], n).toBe(v);
    expect(cfg.services["db-restore"].volumes).toContain("/srv/ctf/restore-secrets:/run/secrets/restore:ro");
  });

  it("the production env file example carries the BACKUP_* lines a first `up -d db-backup` needs", async () => {
    const example = await readFile(join(root, "docker/.env.production.example"), "utf8");
    expect(example).toMatch(/^BACKUP_DATABASE_URL=/m);
    for (const n of [
      "BACKUP_SCHEDULE",
      "BACKUP_S3_BUCKET",
      "BACKUP_S3_SECRET_ACCESS_KEY_FILE",
      "BACKUP_RUN_TIMEOUT_SECONDS",
    ])
      expect(example, n).toMatch(new RegExp(`^#? ?${n}=`, "m"));
  });

  it("passes docker-compose config and wires the backups volume, flags volume and Docker socket", async () => {
    const cfg = await composeConfig(["compose.backup.yml"], { BACKUP_IMAGE: "registry.example/backup:1" });
    expect(Object.keys(cfg.services).sort()).toEqual(["db-backup", "db-restore"]);
    expect(cfg.services["db-backup"].image).toBe("registry.example/backup:1");
    // Long enough for a run in progress to abort cleanly and release the shared lock.
    expect(cfg.services["db-backup"].stop_grace_period).toBe("60s");
    const restoreVolumes = JSON.stringify(cfg.services["db-restore"].volumes);
    expect(restoreVolumes).toContain("/var/run/docker.sock");
    expect(restoreVolumes).toContain("/run/gateway-flags");
    expect(cfg.services["db-restore"].environment.RESTORE_COMPOSE_PROJECT).toBe("opstest");
    expect(Object.keys(cfg.volumes)).toEqual(expect.arrayContaining(["backups", "gateway-flags"]));
  });

  it.runIf(existsSync(join(root, "compose.prod.yml")))("combines with compose.prod.yml", async () => {
    // compose.prod.yml refuses to resolve without its secrets (docker/.env.production.example): give it some.
    const cfg = await composeConfig(["compose.prod.yml", "compose.backup.yml"], {
      POSTGRES_PASSWORD: "ops-test-password",
      REDIS_PASSWORD: "ops-test-redis",
      API_TOKENS: "ops-test-token-0123456789",
      PUBLIC_HOST: "ctf.example.org",
      DOCKER_GID: "999",
    });
    expect(Object.keys(cfg.services)).toEqual(
      expect.arrayContaining(["db-backup", "db-restore", "db", "gateway", "web", "worker"]),
    );
    // The restore service's maintenance flag lands in the very volume the gateway reads it from.
    expect(cfg.services["db-restore"].environment.RESTORE_MAINTENANCE_FLAG_FILE).toBe(
      "/run/gateway-flags/maintenance.on",
    );
    expect(cfg.services["db-restore"].volumes).toContain("gateway-flags:/run/gateway-flags:rw");
    expect(cfg.services.gateway.volumes).toContain("gateway-flags:/run/gateway-flags:ro");
  });
});
