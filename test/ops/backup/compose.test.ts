import { existsSync } from "node:fs";
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

describe("compose.backup.yml", () => {
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
