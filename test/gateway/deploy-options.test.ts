import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROD_VALUES } from "../compose/support.ts";
import { waitUntil } from "../support/wait.ts";
import { openTempDir } from "./support/gateway.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BASE = join(ROOT, "compose.prod.yml");
const CERTBOT_LOOP = join(ROOT, "gateway/certbot/certbot-loop.sh");
const BOUNCER_ENTRYPOINT = join(ROOT, "docker/crowdsec/bouncer-entrypoint.sh");

/** `docker-compose config` of compose.prod.yml plus an overlay, as parsed YAML. */
async function composeConfig(overlay: string, env: Record<string, string>): Promise<any> {
  const { stdout } = await run(
    "docker-compose",
    ["--project-directory", ROOT, "-f", BASE, "-f", join(ROOT, overlay), "config"],
    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...PROD_VALUES, COMPOSE_PROJECT_NAME: "gwcheck", ...env } },
  );
  return parse(stdout);
}

describe("deployment options", () => {
  let dir: string;
  let fakeBin: string;

  beforeAll(async () => {
    dir = await openTempDir("gw-deploy-");
    // Stand-ins for certbot and the bouncer binary: they record their arguments, so the scripts that drive
    // them are tested without reaching a CA or touching the firewall.
    fakeBin = join(dir, "bin");
    await mkdir(fakeBin);
    for (const name of ["certbot", "crowdsec-firewall-bouncer"]) {
      await writeFile(join(fakeBin, name), `#!/bin/sh\necho "$*" >> "${dir}/${name}.calls"\nexit 0\n`);
      await chmod(join(fakeBin, name), 0o755);
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the certbot overlay publishes 80/443 to the gateway's unprivileged ports and shares the certificate volumes", async () => {
    const cfg = await composeConfig("docker/example.compose.certbot.yml", {
      CERTBOT_PRIMARY_DOMAIN: "ctf.example",
      CERTBOT_ADDITIONAL_DOMAINS: "www.ctf.example",
    });
    const gw = cfg.services.gateway;
    expect(gw.ports).toEqual(
      expect.arrayContaining(["127.0.0.1:8000:8000/tcp", "0.0.0.0:80:8000/tcp", "0.0.0.0:443:8443/tcp"]),
    );
    expect(gw.environment).toMatchObject({ CERTBOT_ENABLED: "true", CERTBOT_PRIMARY_DOMAIN: "ctf.example" });
    expect(gw.volumes).toEqual(
      expect.arrayContaining(["certbot-www:/var/www/certbot:ro", "certbot-certs:/etc/letsencrypt:ro"]),
    );
    const certbot = cfg.services.certbot;
    expect(certbot.environment).toMatchObject({ CERTBOT_STAGING: "true", CERTBOT_RENEW_INTERVAL: "12h" });
    expect(certbot.volumes).toEqual(
      expect.arrayContaining([
        "certbot-www:/var/www/certbot:rw",
        "certbot-certs:/etc/letsencrypt:rw",
        `${ROOT}/gateway/certbot/certbot-loop.sh:/opt/gateway-certbot/certbot-loop.sh:ro`,
      ]),
    );
    // Only the gateway publishes ports.
    for (const [name, svc] of Object.entries<any>(cfg.services)) if (name !== "gateway") expect(svc.ports).toBeFalsy();
    // Without a domain the overlay refuses to render.
    await expect(composeConfig("docker/example.compose.certbot.yml", {})).rejects.toThrow(/CERTBOT_PRIMARY_DOMAIN/);
  });

  it("the security overlay puts Fail2Ban and CrowdSec behind profiles, on the host firewall with NET_ADMIN/NET_RAW only", async () => {
    const cfg = await composeConfig("docker/example.compose.security.yml", { FAIL2BAN_MAXRETRY: "5" });
    expect(cfg.services.gateway.environment.GATEWAY_ACCESS_LOG).toBe("/dev/stdout,/var/log/gateway/access.log");
    expect(cfg.services.gateway.volumes).toEqual(expect.arrayContaining(["gateway-logs:/var/log/gateway:rw"]));
    const f2b = cfg.services.fail2ban;
    expect(f2b.profiles).toEqual(["fail2ban"]);
    expect(f2b.network_mode).toBe("host");
    expect(f2b.cap_drop).toEqual(["ALL"]);
    expect([...f2b.cap_add].sort()).toEqual(["NET_ADMIN", "NET_RAW"]);
    expect(f2b.environment.FAIL2BAN_MAXRETRY).toBe("5");
    expect(f2b.volumes).toEqual(expect.arrayContaining(["gateway-logs:/var/log/gateway:ro"]));
    expect(cfg.services.crowdsec.profiles).toEqual(["crowdsec"]);
    expect(cfg.services.crowdsec.environment.COLLECTIONS).toBe("crowdsecurity/nginx");
    expect(cfg.services.crowdsec.ports).toEqual(["127.0.0.1:8080:8080/tcp"]);
    expect(cfg.services["crowdsec-firewall-bouncer"].profiles).toEqual(["crowdsec"]);
    expect([...cfg.services["crowdsec-firewall-bouncer"].cap_add].sort()).toEqual(["NET_ADMIN", "NET_RAW"]);
  });

  it("certbot loop: asks for one certificate named after the primary domain, then switches CA when told", async () => {
    const config = join(dir, "letsencrypt");
    const env = {
      PATH: `${fakeBin}:${process.env.PATH}`,
      CERTBOT_ENABLED: "true",
      CERTBOT_EMAIL: "orga@ctf.example",
      CERTBOT_PRIMARY_DOMAIN: "ctf.example",
      CERTBOT_ADDITIONAL_DOMAINS: "www.ctf.example, api.ctf.example",
      CERTBOT_CONFIG_DIR: config,
      CERTBOT_WEBROOT: join(dir, "webroot"),
      CERTBOT_RENEW_INTERVAL: "1h",
    };
    const calls = join(dir, "certbot.calls");
    const runLoop = async (extra: Record<string, string>) => {
      await rm(calls, { force: true });
      const child = spawn("sh", [CERTBOT_LOOP], { env: { ...env, ...extra }, detached: true, stdio: "ignore" });
      try {
        return await waitUntil("certbot certonly called", async () => (await readFile(calls, "utf8")).trim());
      } finally {
        process.kill(-child.pid!, "SIGKILL");
      }
    };
    await mkdir(config, { recursive: true });

    const first = await runLoop({});
    expect(first).toBe(
      `certonly --non-interactive --config-dir ${config} --webroot -w ${dir}/webroot --cert-name ctf.example ` +
        "--agree-tos --email orga@ctf.example --no-eff-email --staging --keep-until-expiring --expand " +
        "-d ctf.example -d www.ctf.example -d api.ctf.example",
    );
    await waitUntil(
      "CA marker written",
      async () => (await readFile(join(config, ".gateway-ca-ctf.example"), "utf8")) === "staging\n",
    );

    const production = await runLoop({ CERTBOT_STAGING: "false" });
    expect(production).toContain("--force-renewal");
    expect(production).not.toContain("--staging");

    for (const [name, value, message] of [
      ["CERTBOT_RENEW_INTERVAL", "soon", "CERTBOT_RENEW_INTERVAL='soon'"],
      ["CERTBOT_RENEW_INTERVAL", "30s", "at least 60 seconds"],
      ["CERTBOT_PRIMARY_DOMAIN", "ctf.example --manual-auth-hook x", "CERTBOT_PRIMARY_DOMAIN="],
      ["CERTBOT_EMAIL", "a@b.c --agree-tos", "is not an e-mail address"],
    ] as const) {
      const failed = run("sh", [CERTBOT_LOOP], { env: { ...env, [name]: value } });
      await expect(failed, name).rejects.toMatchObject({ code: 64, stderr: expect.stringContaining(message) });
    }
  });

  it("firewall bouncer entrypoint: writes a private config for INPUT and DOCKER-USER and refuses a bad key", async () => {
    const conf = join(dir, "bouncer.yaml");
    const key = "0123456789abcdef0123456789abcdef";
    await run("sh", [BOUNCER_ENTRYPOINT], {
      env: { PATH: `${fakeBin}:${process.env.PATH}`, CROWDSEC_BOUNCER_API_KEY: key, CROWDSEC_BOUNCER_CONFIG: conf },
    });
    const written = parse(await readFile(conf, "utf8"));
    expect(written).toMatchObject({
      mode: "iptables",
      api_url: "http://127.0.0.1:8080/",
      api_key: key,
      iptables_chains: ["INPUT", "DOCKER-USER"],
    });
    // The file holds the API key: readable by its owner only.
    expect((await stat(conf)).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, "crowdsec-firewall-bouncer.calls"), "utf8")).toBe(`-c ${conf}\n`);
    await expect(
      run("sh", [BOUNCER_ENTRYPOINT], {
        env: {
          PATH: `${fakeBin}:${process.env.PATH}`,
          CROWDSEC_BOUNCER_API_KEY: "short",
          CROWDSEC_BOUNCER_CONFIG: conf,
        },
      }),
    ).rejects.toMatchObject({ code: 64 });
  });
});
