import { readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSelfSignedCertificate } from "./support/certificate.ts";
import { busyboxPath, nginxTest, openTempDir, render } from "./support/gateway.ts";

const TOKEN = "route-token-0123456789abcdefghijklmnop";
const ROUTING = {
  CHALLENGE_DOMAIN: "chals.example.org",
  GATEWAY_ROUTE_TOKEN: TOKEN,
  GATEWAY_UPSTREAM: "127.0.0.1:5000",
};

describe("gateway renderer: instances' web names", () => {
  let dir: string;
  let n = 0;
  const out = () => join(dir, `r${++n}`);

  beforeAll(async () => {
    dir = await openTempDir("gw-route-render-");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("without CHALLENGE_DOMAIN nothing of routing is rendered", async () => {
    const target = out();
    expect((await render({ GATEWAY_UPSTREAM: "127.0.0.1:5000" }, target)).code).toBe(0);
    expect(existsSync(join(target, "route.conf"))).toBe(false);
    expect(await readFile(join(target, "nginx.conf"), "utf8")).not.toContain("gw_route");
  });

  it("renders a server for <label>.CHALLENGE_DOMAIN that nginx accepts, in busybox's sh and awk too", async () => {
    for (const shell of ["sh", join(await busyboxPath(join(dir, "bb")), "sh")]) {
      const target = out();
      const result = await render(ROUTING, target, shell);
      expect(result.code, result.stderr).toBe(0);
      const conf = await readFile(join(target, "nginx.conf"), "utf8");
      expect(conf).toContain(
        'server_name "~^(?<gw_route>[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)[.]chals[.]example[.]org$";',
      );
      const route = await readFile(join(target, "route.conf"), "utf8");
      expect(route).toContain(`proxy_set_header X-Gateway-Token "${TOKEN}";`);
      expect(route).toContain("client_max_body_size 10m;");
      expect(await readFile(join(target, "www/no-route.html"), "utf8")).toContain("@@ROUTE@@.chals.example.org");
      const verdict = await nginxTest(target, join(target, "nginx.conf"));
      expect(verdict.code, verdict.stderr).toBe(0);
      // The token never reaches the log line the renderer writes.
      expect(result.stderr).not.toContain(TOKEN);
    }
  });

  it("rewrites upstream names of the hosts file (nginx resolves through DNS only) to their addresses", async () => {
    const hosts = join(dir, "hosts");
    await writeFile(hosts, "127.0.0.1 localhost\n::1 ip6-localhost\n172.17.0.1\thost.docker.internal # Compose\n");
    const target = out();
    const result = await render({ ...ROUTING, GATEWAY_HOSTS_FILE: hosts }, target);
    expect(result.code, result.stderr).toBe(0);
    const conf = await readFile(join(target, "nginx.conf"), "utf8");
    expect(conf).toContain('"~^host[.]docker[.]internal:(?<gw_route_port>[0-9]+)$" "172.17.0.1:$gw_route_port";');
    expect(conf).toContain('"~^localhost:(?<gw_route_port>[0-9]+)$" "127.0.0.1:$gw_route_port";');
    expect(conf).not.toContain("ip6-localhost");
    expect(conf).not.toContain("Compose");
    expect((await nginxTest(target, join(target, "nginx.conf"))).code).toBe(0);
  });

  it("reads the token from GATEWAY_ROUTE_TOKEN_FILE (a Compose secret), trailing newline dropped", async () => {
    const file = join(dir, "route-token");
    await writeFile(file, `${TOKEN}x\n`, { mode: 0o600 });
    const target = out();
    const { GATEWAY_ROUTE_TOKEN: _, ...rest } = ROUTING;
    const result = await render({ ...rest, GATEWAY_ROUTE_TOKEN_FILE: file }, target);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(target, "route.conf"), "utf8")).toContain(`X-Gateway-Token "${TOKEN}x";`);
    const missing = await render({ ...rest, GATEWAY_ROUTE_TOKEN_FILE: join(dir, "nope") }, out());
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("GATEWAY_ROUTE_TOKEN_FILE");
  });

  it("refuses what would break or inject configuration, naming the variable and never echoing the token", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ GATEWAY_ROUTE_TOKEN: "" }, "GATEWAY_ROUTE_TOKEN"],
      [{ GATEWAY_ROUTE_TOKEN: "short-token" }, "GATEWAY_ROUTE_TOKEN"],
      [{ GATEWAY_ROUTE_TOKEN: `${TOKEN}";\n}` }, "GATEWAY_ROUTE_TOKEN"],
      [{ GATEWAY_ROUTE_TOKEN: `${TOKEN}$host` }, "GATEWAY_ROUTE_TOKEN"],
      [{ CHALLENGE_DOMAIN: "Chals.Example.org" }, "CHALLENGE_DOMAIN"],
      [{ CHALLENGE_DOMAIN: "chals.example.org;" }, "CHALLENGE_DOMAIN"],
      [{ CHALLENGE_DOMAIN: "localhost" }, "CHALLENGE_DOMAIN"],
      [{ GATEWAY_ROUTE_MAX_BODY_SIZE: "10 m" }, "GATEWAY_ROUTE_MAX_BODY_SIZE"],
      [{ GATEWAY_ROUTE_READ_TIMEOUT: "forever" }, "GATEWAY_ROUTE_READ_TIMEOUT"],
      [{ GATEWAY_ROUTE_TLS_CERTIFICATE: "/etc/ssl/wild.pem" }, "GATEWAY_ROUTE_TLS_CERTIFICATE_KEY"],
    ];
    for (const [env, name] of cases) {
      const result = await render({ ...ROUTING, ...env }, out());
      expect(result.code, JSON.stringify(env)).toBe(64);
      expect(result.stderr).toContain(name);
      expect(result.stderr).not.toContain(TOKEN);
    }
  });

  it("with a wildcard certificate, the names are served over TLS too, and nginx accepts it beside certbot's", async () => {
    const live = join(dir, "live");
    await writeSelfSignedCertificate(live, ["wildcard.chals.example.org", "*.chals.example.org"]);
    await writeSelfSignedCertificate(live, ["api.example.org"]);
    const target = out();
    const result = await render(
      {
        ...ROUTING,
        GATEWAY_ROUTE_TLS_CERTIFICATE: join(live, "wildcard.chals.example.org", "fullchain.pem"),
        GATEWAY_ROUTE_TLS_CERTIFICATE_KEY: join(live, "wildcard.chals.example.org", "privkey.pem"),
        CERTBOT_ENABLED: "true",
        CERTBOT_PRIMARY_DOMAIN: "api.example.org",
        CERTBOT_CERT_DIR: live,
      },
      target,
    );
    expect(result.code, result.stderr).toBe(0);
    const conf = await readFile(join(target, "nginx.conf"), "utf8");
    expect(conf.match(/listen 8443 ssl;/g)).toHaveLength(2);
    const verdict = await nginxTest(target, join(target, "nginx.conf"));
    expect(verdict.code, verdict.stderr).toBe(0);
  });
});
