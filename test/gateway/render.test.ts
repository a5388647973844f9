import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSelfSignedCertificate } from "./support/certificate.ts";
import { busyboxPath, nginxTest, openTempDir, render } from "./support/gateway.ts";

describe("gateway renderer", () => {
  let dir: string;
  let n = 0;
  const out = () => join(dir, `r${++n}`);

  beforeAll(async () => {
    dir = await openTempDir("gw-render-");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("escapes contact values with <, \", & and ' on the maintenance page", async () => {
    const target = out();
    const result = await render(
      {
        MAINTENANCE_CONTACT_EMAIL: `ops"><script>alert(1)</script>@ctf.example`,
        MAINTENANCE_CONTACT_LABEL: `<b>"Orga" & co's</b>`,
        MAINTENANCE_CONTACT_LINK: `https://status.example/?a=1&b="2"<x>`,
      },
      target,
    );
    expect(result.code, result.stderr).toBe(0);
    const page = await readFile(join(target, "www/maintenance.html"), "utf8");
    expect(page).toContain(
      `<a href="https://status.example/?a=1&amp;b=&quot;2&quot;&lt;x&gt;" rel="noopener noreferrer">` +
        `&lt;b&gt;&quot;Orga&quot; &amp; co&#39;s&lt;/b&gt;</a>`,
    );
    expect(page).toContain(
      `<a href="mailto:ops&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@ctf.example">` +
        `ops&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@ctf.example</a>`,
    );
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<b>");
  });

  it("shows a label without a link as text, and no contact paragraph when nothing is set", async () => {
    const labelOnly = out();
    expect((await render({ MAINTENANCE_CONTACT_LABEL: "Ask at the desk & wait" }, labelOnly)).code).toBe(0);
    const page = await readFile(join(labelOnly, "www/maintenance.html"), "utf8");
    expect(page).toContain("<span>Ask at the desk &amp; wait</span>");
    expect(page).not.toContain("<a href");

    const none = out();
    expect((await render({}, none)).code).toBe(0);
    expect(await readFile(join(none, "www/maintenance.html"), "utf8")).not.toContain('class="contact"');
  });

  it.each([
    [
      "GATEWAY_UPSTREAM",
      "web:5000; return 200 pwned",
      "GATEWAY_UPSTREAM='web:5000; return 200 pwned' must be host:port",
    ],
    ["GATEWAY_UPSTREAM", "web", "GATEWAY_UPSTREAM='web' must be host:port"],
    ["GATEWAY_LISTEN", "8000\nserver { }", "GATEWAY_LISTEN must be a single line"],
    ["GATEWAY_LISTEN", "8000 ssl", "GATEWAY_LISTEN='8000 ssl' must be a port or address:port"],
    ["GATEWAY_RATE_LIMIT", "lots", "GATEWAY_RATE_LIMIT='lots' must be a rate"],
    ["GATEWAY_MAX_BODY_SIZE", "16k;", "GATEWAY_MAX_BODY_SIZE='16k;' must be a size"],
    ["GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8,all", "GATEWAY_TRUSTED_PROXIES='all' must list addresses or CIDRs"],
    ["GATEWAY_ACCESS_LOG", "/x.log gateway;", "GATEWAY_ACCESS_LOG='gateway;' must be off or absolute paths"],
    ["GATEWAY_RETRY_AFTER_SECONDS", "30s", "GATEWAY_RETRY_AFTER_SECONDS='30s' must be a number"],
    ["GATEWAY_RETRY_AFTER_SECONDS", "0", "GATEWAY_RETRY_AFTER_SECONDS='0' must be a number of seconds (at least 1)"],
    ["GATEWAY_UPSTREAM", "127.0.0.1:70000", "GATEWAY_UPSTREAM='127.0.0.1:70000' has a port above 65535"],
    ["GATEWAY_UPSTREAM", "web:0", "GATEWAY_UPSTREAM='web:0' must be host:port (port 1-65535)"],
    ["GATEWAY_UPSTREAM", "300.0.0.1:5000", "GATEWAY_UPSTREAM='300.0.0.1:5000' is not a valid IPv4 address"],
    ["GATEWAY_LISTEN", "0", "GATEWAY_LISTEN='0' must be a port or address:port (port 1-65535)"],
    ["GATEWAY_LISTEN", "65536", "GATEWAY_LISTEN='65536' has a port above 65535"],
    ["GATEWAY_LISTEN", "999.1.1.1:80", "GATEWAY_LISTEN='999.1.1.1:80' must be a port or address:port"],
    ["GATEWAY_TLS_LISTEN", "[::1]:99999", "GATEWAY_TLS_LISTEN='[::1]:99999' has a port above 65535"],
    ["GATEWAY_RATE_LIMIT", "0r/s", "GATEWAY_RATE_LIMIT='0r/s' must be a rate such as 20r/s (at least 1)"],
    ["MAINTENANCE_CONTACT_LINK", "javascript:alert(1)", "MAINTENANCE_CONTACT_LINK must start with https://"],
    ["MAINTENANCE_CONTACT_LABEL", "two\nlines", "MAINTENANCE_CONTACT_LABEL must be a single line"],
    ["MAINTENANCE_CONTACT_LABEL", "x".repeat(257), "MAINTENANCE_CONTACT_LABEL is longer than 256 characters"],
    ["CERTBOT_ENABLED", "maybe", "CERTBOT_ENABLED='maybe' must be true or false"],
    ["CERTBOT_ENABLED", "true", "CERTBOT_PRIMARY_DOMAIN='' must be a domain name"],
  ])("refuses %s=%j and says why", async (name, value, message) => {
    const target = out();
    const result = await render({ [name]: value }, target);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(`gateway: ${message}`);
    // Nothing half-rendered is left for nginx to pick up.
    await expect(readFile(join(target, "nginx.conf"))).rejects.toThrow();
  });

  it("resolves a host-name upstream per request with the configured resolvers (IPv6 bracketed)", async () => {
    const target = out();
    const result = await render({ GATEWAY_UPSTREAM: "web:5000", GATEWAY_RESOLVER: "127.0.0.11, fd00::1" }, target);
    expect(result.code, result.stderr).toBe(0);
    const conf = await readFile(join(target, "nginx.conf"), "utf8");
    expect(conf).toContain("resolver 127.0.0.11 [fd00::1] valid=10s ipv6=off;");
    expect(conf).toContain('default "web:5000";');
    expect((await nginxTest(dir, join(target, "nginx.conf"))).code).toBe(0);

    // An address needs no resolver.
    const literal = out();
    expect((await render({ GATEWAY_UPSTREAM: "127.0.0.1:5000" }, literal)).code).toBe(0);
    expect(await readFile(join(literal, "nginx.conf"), "utf8")).not.toContain("resolver ");
  });

  it("renders GATEWAY_RATE_BURST=0 as no burst, which nginx accepts (it refuses burst=0)", async () => {
    const target = out();
    expect((await render({ GATEWAY_UPSTREAM: "127.0.0.1:5000", GATEWAY_RATE_BURST: "0" }, target)).code).toBe(0);
    expect(await readFile(join(target, "app.conf"), "utf8")).toContain("limit_req zone=gw_requests nodelay;");
    const verdict = await nginxTest(dir, join(target, "nginx.conf"));
    expect(verdict.code, verdict.stderr).toBe(0);
  });

  it("every option combination renders a configuration nginx accepts", async () => {
    const live = join(dir, "live");
    await writeSelfSignedCertificate(live, ["gw.example", "www.gw.example"]);
    const combos: Record<string, string>[] = [
      {},
      { GATEWAY_LISTEN: "[::1]:65535", GATEWAY_RATE_LIMIT: "1r/m", GATEWAY_RATE_BURST: "7" },
      {
        GATEWAY_TRUSTED_PROXIES: "10.0.0.0/8, 172.16.0.0/12,fd00::/8",
        GATEWAY_RATE_LIMIT_EXEMPT: "192.0.2.10",
        GATEWAY_ACCESS_LOG: `/dev/stdout,${join(dir, "access.log")}`,
        GATEWAY_ERROR_LOG: join(dir, "error.log"),
        GATEWAY_LOG_LEVEL: "info",
      },
      { CERTBOT_ENABLED: "true", CERTBOT_PRIMARY_DOMAIN: "nocert.example", CERTBOT_CERT_DIR: live },
      {
        CERTBOT_ENABLED: "true",
        CERTBOT_PRIMARY_DOMAIN: "gw.example",
        CERTBOT_ADDITIONAL_DOMAINS: "www.gw.example",
        CERTBOT_CERT_DIR: live,
        CERTBOT_FORCE_HTTPS: "true",
      },
      {
        CERTBOT_ENABLED: "yes",
        CERTBOT_PRIMARY_DOMAIN: "gw.example",
        CERTBOT_CERT_DIR: live,
        GATEWAY_TLS_LISTEN: "9443",
      },
    ];
    for (const env of combos) {
      const target = out();
      const result = await render({ GATEWAY_UPSTREAM: "127.0.0.1:5000", ...env }, target);
      expect(result.code, result.stderr).toBe(0);
      const verdict = await nginxTest(dir, join(target, "nginx.conf"));
      expect(verdict.code, `${JSON.stringify(env)}\n${verdict.stderr}`).toBe(0);
      const conf = await readFile(join(target, "nginx.conf"), "utf8");
      expect(conf.includes("ssl_certificate "), JSON.stringify(env)).toBe(env.CERTBOT_PRIMARY_DOMAIN === "gw.example");
    }
  });

  it("renders byte for byte the same with busybox (the nginx:alpine toolset) as with dash and mawk", async () => {
    const bin = await busyboxPath(join(dir, "busybox-bin"));
    const env = {
      GATEWAY_UPSTREAM: "web:5000",
      GATEWAY_RESOLVER: "127.0.0.11",
      GATEWAY_TRUSTED_PROXIES: "10.0.0.0/8",
      GATEWAY_ACCESS_LOG: "/dev/stdout,/var/log/gateway/access.log",
      MAINTENANCE_CONTACT_LABEL: `<b>"Orga" & co's</b>`,
      MAINTENANCE_CONTACT_LINK: "https://status.example/?a=1&b=2",
      MAINTENANCE_CONTACT_EMAIL: "orga@ctf.example",
    };
    const [a, b] = [out(), out()];
    const viaBusybox = await render({ ...env, PATH: bin }, a, join(bin, "sh"));
    expect(viaBusybox.code, viaBusybox.stderr).toBe(0);
    expect((await render(env, b)).code).toBe(0);
    for (const file of ["nginx.conf", "app.conf", "www/maintenance.html"]) {
      const [x, y] = [await readFile(join(a, file), "utf8"), await readFile(join(b, file), "utf8")];
      expect(x.replaceAll(a, "OUT"), file).toBe(y.replaceAll(b, "OUT"));
    }
    const refused = await render({ GATEWAY_LISTEN: "8000;", PATH: bin }, out(), join(bin, "sh"));
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain("gateway: GATEWAY_LISTEN='8000;' must be a port or address:port");
  });
});
