import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestGateway } from "./support/gateway.ts";
import { StubUpstream } from "./support/upstream.ts";

const CONTACT = {
  MAINTENANCE_CONTACT_EMAIL: "ops@ctf.example",
  MAINTENANCE_CONTACT_LABEL: "Organisers' Discord",
  MAINTENANCE_CONTACT_LINK: "https://discord.example/ctf",
};
const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

async function get(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* HTML or text */
  }
  return { status: res.status, headers: res.headers, text, json };
}

function expectMaintenanceHeaders(headers: Headers) {
  expect(headers.get("retry-after")).toBe("30");
  expect(headers.get("cache-control")).toBe("no-store");
  expect(headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]+$/);
}

describe("gateway in front of the API (stand-in upstream)", () => {
  const upstream = new StubUpstream();
  let gw: TestGateway;

  beforeAll(async () => {
    await upstream.start();
    gw = await TestGateway.start({ upstreamPort: upstream.port, env: CONTACT });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream.stop();
  });

  it("proxies requests and passes the API's own errors through untouched", async () => {
    const ok = await get(gw.url("/challenges?x=1"), { headers: { accept: "application/json" } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ upstream: true, method: "GET", path: "/challenges?x=1" });

    const payload = JSON.stringify({ team_id: "t1", challenge_id: "web100" });
    const posted = await get(gw.url("/assign"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
    });
    expect(posted.json).toMatchObject({ method: "POST", path: "/assign", bodyBytes: payload.length });

    const missing = await get(gw.url("/missing/thing"));
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("not_found");
    const unauthorized = await get(gw.url("/instances"), { headers: { authorization: "Bearer wrong" } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json.error.code).toBe("unauthorized");
  });

  it("keeps a well-formed X-Request-Id end to end and replaces a malformed one", async () => {
    const kept = await get(gw.url("/instances"), { headers: { "x-request-id": "platform-req.42_a" } });
    expect(kept.json.requestId).toBe("platform-req.42_a");
    expect(kept.headers.get("x-request-id")).toBe("platform-req.42_a");

    const bad = await get(gw.url("/instances"), { headers: { "x-request-id": "bad id;<script>" } });
    expect(bad.json.requestId).toMatch(/^[0-9a-f]{32}$/);
    const tooLong = await get(gw.url("/instances"), { headers: { "x-request-id": "a".repeat(129) } });
    expect(tooLong.json.requestId).toMatch(/^[0-9a-f]{32}$/);

    const none = await get(gw.url("/instances"));
    expect(none.json.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(upstream.seen.at(-1)!.forwardedFor).toBe("127.0.0.1");
  });

  it("accepts a body up to the API's 16 KiB limit and answers 413 with the envelope beyond it", async () => {
    const body = (n: number) => JSON.stringify({ pad: "x".repeat(n - 10) });
    const fits = await get(gw.url("/assign"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(16 * 1024),
    });
    expect(fits.status).toBe(200);
    expect(fits.json.bodyBytes).toBe(16 * 1024);

    const tooBig = await get(gw.url("/assign"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "big-1" },
      body: body(16 * 1024 + 1),
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toEqual({
      error: { code: "payload_too_large", message: "request body exceeds 16k", requestId: "big-1" },
    });
  });

  it("API killed: the very next request gets the maintenance page (HTML with contact details, JSON for API clients)", async () => {
    await upstream.stop();

    const page = await get(gw.url("/"), { headers: BROWSER });
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expectMaintenanceHeaders(page.headers);
    expect(page.text).toContain("under maintenance");
    expect(page.text).toContain('<a href="mailto:ops@ctf.example">ops@ctf.example</a>');
    expect(page.text).toContain(
      '<a href="https://discord.example/ctf" rel="noopener noreferrer">Organisers&#39; Discord</a>',
    );
    // The player can quote the reference: it is the request id.
    expect(page.text).toContain(`Reference: ${page.headers.get("x-request-id")}`);

    // A form POST from a browser still gets the page.
    const form = await get(gw.url("/some/form"), { method: "POST", headers: BROWSER, body: "a=1" });
    expect(form.status).toBe(503);
    expect(form.text).toContain("under maintenance");

    // API clients: by path, by Accept, by Content-Type, by method.
    const byPath = await get(gw.url("/instances/abc"), { headers: { ...BROWSER, "x-request-id": "rid-7" } });
    expect(byPath.status).toBe(503);
    expectMaintenanceHeaders(byPath.headers);
    expect(byPath.headers.get("content-type")).toBe("application/json");
    expect(byPath.json).toEqual({
      error: {
        code: "maintenance",
        message: "The service is under maintenance; retry in 30 seconds.",
        requestId: "rid-7",
        details: { retryAfterSeconds: 30 },
      },
    });
    for (const path of [
      "/assign",
      "/remove",
      "/extend",
      "/challenges/web100",
      "/flags/verify",
      "/readyz",
      "/metrics",
    ]) {
      const r = await get(gw.url(path), { headers: BROWSER });
      expect(r.json?.error?.code, path).toBe("maintenance");
    }
    const byAccept = await get(gw.url("/"), { headers: { accept: "application/json" } });
    expect(byAccept.json.error.code).toBe("maintenance");
    const byType = await get(gw.url("/"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(byType.json.error.code).toBe("maintenance");
    const byMethod = await get(gw.url("/whatever"), { method: "DELETE" });
    expect(byMethod.json.error.code).toBe("maintenance");
    // Not a JSON client and not an API path: HTML.
    const curlish = await get(gw.url("/"), { headers: { accept: "*/*" } });
    expect(curlish.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("API back: normal responses resume without restarting nginx", async () => {
    const pid = gw.pid;
    await upstream.start();
    const back = await get(gw.url("/challenges"));
    expect(back.status).toBe(200);
    expect(back.json.upstream).toBe(true);
    expect(gw.pid).toBe(pid);
    process.kill(pid, 0); // still the same master
  });

  it("the API's own 503 (database down) becomes the maintenance response; /healthz still answers", async () => {
    upstream.mode = "unavailable";
    try {
      const api = await get(gw.url("/challenges"), { headers: { "x-request-id": "db-down-1" } });
      expect(api.status).toBe(503);
      expectMaintenanceHeaders(api.headers);
      expect(api.json.error).toMatchObject({ code: "maintenance", requestId: "db-down-1" });
      const page = await get(gw.url("/"), { headers: BROWSER });
      expect(page.status).toBe(503);
      expect(page.text).toContain("ops@ctf.example");
      const health = await get(gw.url("/healthz"));
      expect(health.status).toBe(200);
    } finally {
      upstream.mode = "ok";
    }
    expect((await get(gw.url("/challenges"))).status).toBe(200);
  });

  it("the flag file forces maintenance while the API is healthy, and its removal ends it", async () => {
    const before = upstream.seen.length;
    await gw.setMaintenanceFlag(true);
    try {
      const api = await get(gw.url("/assign"), { method: "POST", headers: { "content-type": "application/json" } });
      expect(api.status).toBe(503);
      expect(api.json.error.code).toBe("maintenance");
      const page = await get(gw.url("/"), { headers: BROWSER });
      expect(page.status).toBe(503);
      expect(page.text).toContain("under maintenance");
      // The API is not even asked: a restore may be replacing its database.
      expect(upstream.seen.length).toBe(before);
      // The gateway itself stays healthy for its orchestrator.
      expect((await get(gw.url("/gateway/healthz"))).status).toBe(200);
    } finally {
      await gw.setMaintenanceFlag(false);
    }
    const after = await get(gw.url("/assign"), { method: "POST", headers: { "content-type": "application/json" } });
    expect(after.status).toBe(200);
    expect(upstream.seen.length).toBe(before + 1);
  });

  it("internal maintenance locations cannot be requested directly", async () => {
    for (const path of ["/__gateway/maintenance.json", "/__gateway/maintenance.html", "/__gateway/rate-limited.json"])
      expect((await get(gw.url(path))).status, path).toBe(404);
  });
});

describe("gateway rate limiting", () => {
  const upstream = new StubUpstream();
  let limited: TestGateway;
  let exempt: TestGateway;
  let noBurst: TestGateway;

  beforeAll(async () => {
    await upstream.start();
    const env = { GATEWAY_RATE_LIMIT: "1r/m", GATEWAY_RATE_BURST: "2" };
    limited = await TestGateway.start({ upstreamPort: upstream.port, env });
    exempt = await TestGateway.start({
      upstreamPort: upstream.port,
      env: { ...env, GATEWAY_RATE_LIMIT_EXEMPT: "127.0.0.0/8" },
    });
    noBurst = await TestGateway.start({ upstreamPort: upstream.port, env: { ...env, GATEWAY_RATE_BURST: "0" } });
  });
  afterAll(async () => {
    await limited?.stop();
    await exempt?.stop();
    await noBurst?.stop();
    await upstream.stop();
  });

  it("answers 429 (not 503) with the envelope beyond the burst, and exempts listed addresses", async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof get>> | null = null;
    for (let i = 0; i < 6; i++) {
      last = await get(limited.url("/instances"), { headers: { "x-request-id": `rl-${i}` } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    expect(last!.json).toEqual({
      error: { code: "rate_limited", message: "too many requests; slow down", requestId: "rl-5" },
    });
    expect(last!.headers.get("retry-after")).toBe("1");
    const page = await get(limited.url("/"), { headers: BROWSER });
    expect(page.status).toBe(429);
    expect(page.text).toContain("Too many requests");

    for (let i = 0; i < 6; i++) expect((await get(exempt.url("/instances"))).status).toBe(200);
    // A flood does not write one error-log line per refused request at the default level.
    expect(limited.logs).not.toContain("limiting requests");
  });

  it("GATEWAY_RATE_BURST=0 lets one request through per period and refuses the next", async () => {
    expect((await get(noBurst.url("/instances"))).status).toBe(200);
    expect((await get(noBurst.url("/instances"))).status).toBe(429);
  });
});
