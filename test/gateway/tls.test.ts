import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/wait.ts";
import { writeSelfSignedCertificate } from "./support/certificate.ts";
import { openTempDir, TestGateway } from "./support/gateway.ts";
import { rawRequest } from "./support/http.ts";
import { StubUpstream } from "./support/upstream.ts";

const PRIMARY = "gw.test";
const EXTRA = "www.gw.test";

describe("certbot option: HTTP until a certificate exists, HTTPS after, redirect when forced", () => {
  const upstream = new StubUpstream();
  let dir: string;
  let live: string;
  let webroot: string;
  const gateways: TestGateway[] = [];

  const env = (extra: Record<string, string> = {}) => ({
    CERTBOT_ENABLED: "true",
    CERTBOT_PRIMARY_DOMAIN: PRIMARY,
    CERTBOT_ADDITIONAL_DOMAINS: EXTRA,
    CERTBOT_CERT_DIR: live,
    CERTBOT_WEBROOT: webroot,
    GATEWAY_CERT_CHECK_INTERVAL: "1",
    ...extra,
  });

  beforeAll(async () => {
    await upstream.start();
    dir = await openTempDir("gw-tls-");
    live = join(dir, "live");
    webroot = join(dir, "webroot");
    await mkdir(live, { mode: 0o755 });
    await mkdir(join(webroot, ".well-known/acme-challenge"), { recursive: true, mode: 0o755 });
    await writeFile(join(webroot, ".well-known/acme-challenge/token-abc"), "token-abc.key-auth", { mode: 0o644 });
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.stop();
    await upstream.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves HTTP and the ACME challenge without a certificate, then HTTPS once certbot has written one", async () => {
    const gw = await TestGateway.start({ upstreamPort: upstream.port, tls: true, env: env() });
    gateways.push(gw);

    const challenge = await rawRequest({ port: gw.httpPort, path: "/.well-known/acme-challenge/token-abc" });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toBe("token-abc.key-auth");
    expect((await rawRequest({ port: gw.httpPort, path: "/.well-known/acme-challenge/nope" })).status).toBe(404);
    const plain = await rawRequest({ port: gw.httpPort, path: "/challenges" });
    expect(plain.status).toBe(200);
    await expect(rawRequest({ port: gw.tlsPort, path: "/" })).rejects.toThrow(/ECONNREFUSED/);

    const pid = gw.pid;
    const ca = await writeSelfSignedCertificate(live, [PRIMARY, EXTRA]);
    // The entrypoint's watcher notices the certificate, re-renders and reloads nginx (no restart).
    const secure = await waitUntil(
      "HTTPS served after the certificate appeared",
      () => rawRequest({ port: gw.tlsPort, path: "/challenges", tls: { servername: PRIMARY, ca } }),
      15_000,
    );
    expect(secure.status).toBe(200);
    expect(JSON.parse(secure.body)).toMatchObject({ upstream: true, path: "/challenges" });
    expect(gw.pid).toBe(pid);
    const extra = await rawRequest({ port: gw.tlsPort, path: "/instances", tls: { servername: EXTRA, ca } });
    expect(extra.status).toBe(200);

    // Maintenance works the same over HTTPS.
    await gw.setMaintenanceFlag(true);
    const down = await rawRequest({
      port: gw.tlsPort,
      path: "/instances",
      tls: { servername: PRIMARY, ca },
      headers: { "x-request-id": "tls-maint" },
    });
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).error).toMatchObject({ code: "maintenance", requestId: "tls-maint" });
    await gw.setMaintenanceFlag(false);

    // Renewal: the watcher reloads nginx with the new certificate.
    const renewed = await writeSelfSignedCertificate(live, [PRIMARY, EXTRA]);
    const want = new X509Certificate(renewed).fingerprint256;
    expect(want).not.toBe(new X509Certificate(ca).fingerprint256);
    await waitUntil(
      "renewed certificate served",
      async () =>
        (await rawRequest({ port: gw.tlsPort, path: "/gateway/healthz", tls: { servername: PRIMARY, ca: renewed } }))
          .fingerprint === want,
      15_000,
    );
    expect(gw.pid).toBe(pid);

    // Not forced: HTTP keeps serving the API.
    expect((await rawRequest({ port: gw.httpPort, path: "/challenges" })).status).toBe(200);
  });

  it("redirects HTTP to HTTPS when forced, keeps the ACME challenge on HTTP, and never redirects to a foreign host", async () => {
    // The certificate from the first test is in place: this gateway starts with HTTPS at once.
    const forced = await TestGateway.start({
      upstreamPort: upstream.port,
      tls: true,
      env: env({ CERTBOT_FORCE_HTTPS: "true" }),
    });
    gateways.push(forced);

    const redirect = await rawRequest({ port: forced.httpPort, path: "/instances?team=a", headers: { host: EXTRA } });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://${EXTRA}:${forced.tlsPort}/instances?team=a`);
    // Following it lands on the API over verified TLS.
    const target = new URL(String(redirect.headers.location));
    const ca = await readFile(join(live, PRIMARY, "fullchain.pem"), "utf8");
    const followed = await rawRequest({
      port: Number(target.port),
      path: target.pathname + target.search,
      tls: { servername: target.hostname, ca },
    });
    expect(followed.status).toBe(200);
    expect(JSON.parse(followed.body)).toMatchObject({ upstream: true, path: "/instances?team=a" });

    const foreign = await rawRequest({ port: forced.httpPort, path: "/", headers: { host: "evil.example" } });
    expect(foreign.status).toBe(301);
    expect(foreign.headers.location).toBe(`https://${PRIMARY}:${forced.tlsPort}/`);

    const challenge = await rawRequest({ port: forced.httpPort, path: "/.well-known/acme-challenge/token-abc" });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toBe("token-abc.key-auth");
    expect((await rawRequest({ port: forced.httpPort, path: "/gateway/healthz" })).status).toBe(200);
  });
});
