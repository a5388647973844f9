// Every compose file passes `docker-compose config` (Debian's docker-compose 1.29), and the properties the
// deployment relies on are really in the resolved configuration: secrets without defaults, PostgreSQL 18 volume
// layout, Redis persistence and eviction policy, what is published, how the worker reaches the engine.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROD_VALUES, ROOT, compose, writeEnvFile } from "./support.ts";

const composeFiles = readdirSync(ROOT).filter((f) => /^compose(\.[a-z0-9-]+)?\.ya?ml$/.test(f));

async function resolved(files: string[], values: Record<string, string>): Promise<any> {
  const result = await compose(files, writeEnvFile(values), ["config"]);
  expect(result.code, result.stderr).toBe(0);
  return parse(result.stdout);
}

describe("docker-compose config", () => {
  it("finds the dev and prod files", () => {
    expect(composeFiles).toEqual(expect.arrayContaining(["compose.dev.yml", "compose.prod.yml"]));
  });

  it.each(composeFiles)("%s is valid", async (file) => {
    const values = file === "compose.dev.yml" ? { COMPOSE_PROJECT_NAME: "ctfi_config_test" } : PROD_VALUES;
    const config = await resolved([file], values);
    expect(Object.keys(config.services ?? {}).length).toBeGreaterThan(0);
  });

  it.runIf(existsSync(join(ROOT, "compose.backup.yml")))(
    "compose.prod.yml with compose.backup.yml is valid",
    async () => {
      const config = await resolved(["compose.prod.yml", "compose.backup.yml"], PROD_VALUES);
      expect(config.services).toHaveProperty("web");
      expect(config.services).toHaveProperty("db");
    },
  );
});

describe("compose.prod.yml", () => {
  let config: any;
  beforeAll(async () => {
    config = await resolved(["compose.prod.yml"], PROD_VALUES);
  });

  it.each(["POSTGRES_PASSWORD", "REDIS_PASSWORD", "API_TOKENS", "PUBLIC_HOST", "DOCKER_GID"])(
    "refuses to start without %s",
    async (name) => {
      const { [name]: _omitted, ...rest } = PROD_VALUES;
      const result = await compose(["compose.prod.yml"], writeEnvFile(rest), ["config"]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`${name} is required`);
    },
  );

  it("has gateway, web, worker, db and redis on the backend network", () => {
    expect(Object.keys(config.services).sort()).toEqual(["db", "gateway", "redis", "web", "worker"]);
    for (const name of ["gateway", "web", "worker", "db", "redis"]) {
      expect(Object.keys(config.services[name].networks)).toEqual(["backend"]);
    }
  });

  it("runs PostgreSQL 18 with the volume at /var/lib/postgresql and PGDATA below it", () => {
    const db = config.services.db;
    expect(db.image).toBe("postgres:18");
    expect(db.volumes).toEqual(["pgdata:/var/lib/postgresql:rw"]);
    expect(db.environment.PGDATA).toBe("/var/lib/postgresql/data/pgdata");
    expect(db.ports).toBeUndefined();
  });

  it("runs Redis with AOF and noeviction, password protected, not published", () => {
    const command: string[] = config.services.redis.command;
    const arg = (flag: string) => command[command.indexOf(flag) + 1];
    expect(arg("--appendonly")).toBe("yes");
    expect(arg("--maxmemory-policy")).toBe("noeviction");
    expect(arg("--requirepass")).toBe(PROD_VALUES.REDIS_PASSWORD);
    expect(config.services.redis.ports).toBeUndefined();
  });

  it("publishes only the gateway's port, 8000 on 127.0.0.1 by default (behind the host's proxy)", () => {
    const published = Object.entries<any>(config.services)
      .filter(([, s]) => s.ports?.length)
      .map(([name]) => name);
    expect(published).toEqual(["gateway"]);
    expect(config.services.gateway.ports).toEqual(["127.0.0.1:8000:8000/tcp"]);
  });

  it("publishes the gateway where GATEWAY_BIND_ADDRESS and GATEWAY_PORT say", async () => {
    const moved = await resolved(["compose.prod.yml"], {
      ...PROD_VALUES,
      GATEWAY_BIND_ADDRESS: "0.0.0.0",
      GATEWAY_PORT: "8080",
    });
    expect(moved.services.gateway.ports).toEqual(["0.0.0.0:8080:8000/tcp"]);
  });

  it("runs the gateway hardened, healthchecked, in front of web without waiting for its health", () => {
    const gw = config.services.gateway;
    expect(gw.build.dockerfile).toBe("docker/gateway.Dockerfile");
    expect(gw.environment.GATEWAY_UPSTREAM).toBe("web:5000");
    expect(gw.read_only).toBe(true);
    expect(gw.cap_drop).toEqual(["ALL"]);
    expect([...gw.cap_add].sort()).toEqual(["CHOWN", "SETGID", "SETUID"]);
    expect(gw.security_opt).toContain("no-new-privileges:true");
    expect(gw.healthcheck.test.join(" ")).toContain("http://127.0.0.1:8000/gateway/healthz");
    // Started after web, but never held back by it: it must serve maintenance while web is down.
    expect(gw.depends_on).toEqual({ web: { condition: "service_started" } });
    expect(gw.volumes).toEqual(["gateway-flags:/run/gateway-flags:ro", "gateway-logs:/var/log/gateway:rw"]);
    expect(config.volumes).toHaveProperty("gateway-flags");
    expect(config.volumes).toHaveProperty("gateway-logs");
  });

  it("restarts, limits and hardens the services", () => {
    for (const name of ["gateway", "web", "worker", "db", "redis"]) {
      const s = config.services[name];
      expect(s.restart, name).toBe("unless-stopped");
      expect(s.mem_limit, name).toBeTruthy();
      expect(s.cpus, name).toBeGreaterThan(0);
    }
    for (const name of ["web", "worker"]) {
      const s = config.services[name];
      expect(s.read_only).toBe(true);
      expect(s.cap_drop).toEqual(["ALL"]);
      expect(s.security_opt).toContain("no-new-privileges:true");
      expect(s.user).toBeUndefined(); // the image's non-root user
      expect(s.depends_on).toEqual({
        db: { condition: "service_healthy" },
        redis: { condition: "service_healthy" },
      });
    }
  });

  it("gives the worker the Docker socket through its group and a way back to published ports", () => {
    const worker = config.services.worker;
    expect(worker.volumes).toContain("/var/run/docker.sock:/var/run/docker.sock:rw");
    expect(worker.group_add).toEqual([PROD_VALUES.DOCKER_GID]);
    expect(worker.extra_hosts).toContain("host.docker.internal:host-gateway");
    expect(worker.environment.PORT_CHECK_HOST).toBe("host.docker.internal");
    expect(config.services.web.volumes).toBeDefined();
    expect(config.services.web.environment.DATABASE_URL).toBe(
      `postgres://ctf_instancer:${PROD_VALUES.POSTGRES_PASSWORD}@db:5432/ctf_instancer`,
    );
  });
});

describe("compose.dev.yml", () => {
  let config: any;
  beforeAll(async () => {
    config = await resolved(["compose.dev.yml"], { COMPOSE_PROJECT_NAME: "ctfi_config_test" });
  });

  it("bind-mounts the source into web and worker, which run it with the dev image", () => {
    for (const name of ["web", "worker"]) {
      const s = config.services[name];
      expect(s.build.target).toBe("dev");
      expect(s.volumes).toContain("/app/node_modules");
      expect(s.volumes.some((v: string) => v.endsWith(":/app:rw"))).toBe(true);
      expect(s.environment.APP_SOURCE).toBe("source");
      expect(s.depends_on.db).toEqual({ condition: "service_healthy" });
      expect(s.depends_on.redis).toEqual({ condition: "service_healthy" });
    }
    expect(config.services.worker.volumes).toContain("/var/run/docker.sock:/var/run/docker.sock:rw");
    expect(config.services.web.environment.CHALLENGES_FILE).toBe("/app/docker/challenges.sample.json");
  });

  it("builds the sample challenge image without leaving a service running", () => {
    const challenge = config.services.challenge;
    expect(challenge.image).toBe("ctf-instancer/challenge-web:latest");
    expect(challenge.build).toBeDefined();
    expect(challenge.command).toEqual(["true"]);
    expect(challenge.restart).toBe("no");
  });

  it("has healthchecks on PostgreSQL and Redis and a named PostgreSQL volume", () => {
    expect(config.services.db.healthcheck.test[1]).toContain("pg_isready");
    expect(config.services.redis.healthcheck.test[1]).toContain("redis-cli ping");
    expect(config.services.db.volumes).toEqual(["pgdata:/var/lib/postgresql:rw"]);
    expect(config.volumes).toHaveProperty("pgdata");
  });
});
