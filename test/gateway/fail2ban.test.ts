import { execFile } from "node:child_process";
import { cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/wait.ts";
import { openTempDir, TestGateway } from "./support/gateway.ts";
import { StubUpstream } from "./support/upstream.ts";

const run = promisify(execFile);
const DOCKER_DIR = resolve(import.meta.dirname, "../../docker/fail2ban");
const FILTER = join(DOCKER_DIR, "filter.d/gateway.conf");

/** fail2ban-regex's verdict on a log file: how many lines the filter matched. */
async function fail2banRegex(log: string): Promise<{ lines: number; matched: number; output: string }> {
  const { stdout } = await run("fail2ban-regex", ["--print-all-matched", "--print-all-missed", log, FILTER], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const m = /Lines: (\d+) lines, \d+ ignored, (\d+) matched, (\d+) missed/.exec(stdout);
  if (!m) throw new Error(`unexpected fail2ban-regex output:\n${stdout}`);
  return { lines: Number(m[1]), matched: Number(m[2]), output: stdout };
}

/** Bytes nginx cannot parse as HTTP, on a raw connection; resolves when nginx closes it. */
function sendRaw(port: number, bytes: Buffer): Promise<void> {
  return new Promise((ok, fail) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(bytes));
    socket.on("data", () => {});
    socket.on("close", () => ok());
    socket.on("error", fail);
    socket.setTimeout(5_000, () => socket.destroy(new Error("raw request timed out")));
  });
}

describe("Fail2Ban filter on the gateway's own access log", () => {
  const upstream = new StubUpstream();
  let gw: TestGateway;
  let dir: string;
  let accessLog: string;

  beforeAll(async () => {
    await upstream.start();
    dir = await openTempDir("gw-f2b-");
    accessLog = join(dir, "access.log");
    gw = await TestGateway.start({
      upstreamPort: upstream.port,
      env: { GATEWAY_ACCESS_LOG: accessLog, GATEWAY_RATE_LIMIT: "1r/m", GATEWAY_RATE_BURST: "20" },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("matches abusive request lines and none of the normal ones", async () => {
    let n = 0;
    const send = async (kind: "normal" | "abuse", path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set("x-request-id", `${kind}-${++n}`);
      await (await fetch(gw.url(path), { ...init, headers })).arrayBuffer();
    };
    const json = { "content-type": "application/json" };

    // Normal traffic, including answers that are errors but not abuse.
    await send("normal", "/challenges");
    await send("normal", "/assign", { method: "POST", headers: json, body: '{"team_id":"t","challenge_id":"c"}' });
    await send("normal", "/instances?team_id=php-lovers");
    await send("normal", "/missing/instance-9"); // 404 from the API
    await send("normal", "/healthz", {
      headers: { "user-agent": "probe /.env wp-login.php", referer: "/.git/config" },
    });
    await send("normal", "/instances", { headers: { authorization: "Bearer good-token" } });
    await send("normal", "/assign", { method: "POST", headers: json, body: "x".repeat(20_000) }); // 413
    await gw.setMaintenanceFlag(true);
    await send("normal", "/challenges"); // 503 maintenance
    await send("normal", "/");
    await gw.setMaintenanceFlag(false);
    // Probes, token guessing, junk.
    for (const path of [
      "/.env",
      "/wp-login.php",
      "/api/.git/config",
      "/cgi-bin/luci",
      "/index.php?s=/Index/think",
      "/static/../../etc/passwd",
      "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
      "/PHPMYADMIN/",
    ])
      await send("abuse", path);
    await send("abuse", "/xmlrpc.php", { method: "POST", body: "<methodCall/>" });
    for (let i = 0; i < 3; i++) await send("abuse", "/instances", { headers: { authorization: `Bearer guess-${i}` } });
    await sendRaw(gw.httpPort, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]));
    await sendRaw(gw.httpPort, Buffer.from("GARBAGE\r\n\r\n"));
    // A well-formed request nginx refuses with 400 (a header over its buffers) is not junk.
    await send("normal", "/challenges?normal-cookie", { headers: { cookie: "c=" + "x".repeat(9_000) } });
    const abusive = 12 + 2;
    const normal = 10;

    // Rate-limited requests are logged too (429), and are not abuse by this filter.
    for (let i = 0; i < 25; i++) await send("normal", "/instances");
    const total = normal + 25 + abusive;

    const lines = await waitUntil(
      "every request logged",
      async () => {
        const all = (await readFile(accessLog, "utf8")).split("\n").filter(Boolean);
        if (all.length < total) throw new Error(`${all.length} of ${total} lines logged`);
        return all;
      },
      10_000,
    );
    expect(lines.some((l) => / 429 /.test(l) && l.includes("rid=normal-"))).toBe(true);
    expect(lines.filter((l) => /" 400 /.test(l))).toHaveLength(3);

    // nginx stops reading headers at the oversized one, so that line may carry a fresh request id: its path says.
    const isNormal = (l: string) => l.includes("rid=normal-") || l.includes("?normal-cookie");
    const normalLines = lines.filter(isNormal);
    const abusiveLines = lines.filter((l) => !isNormal(l));
    expect(normalLines).toHaveLength(normal + 25);
    expect(abusiveLines).toHaveLength(abusive);
    await writeFile(join(dir, "normal.log"), normalLines.join("\n") + "\n");
    await writeFile(join(dir, "abusive.log"), abusiveLines.join("\n") + "\n");

    const good = await fail2banRegex(join(dir, "normal.log"));
    expect(good.lines).toBe(normal + 25);
    expect(good.matched, good.output).toBe(0);
    const bad = await fail2banRegex(join(dir, "abusive.log"));
    expect(bad.lines).toBe(abusive);
    expect(bad.matched, bad.output).toBe(abusive);
  });

  it("renders a jail from FAIL2BAN_* that Fail2Ban itself accepts, banning in DOCKER-USER", async () => {
    const conf = join(dir, "fail2ban");
    await cp("/etc/fail2ban", conf, { recursive: true });
    // Only our jail: the distribution's defaults would watch files this machine may not have.
    for (const f of await readdir(join(conf, "jail.d"))) await rm(join(conf, "jail.d", f));
    await mkdir(join(conf, "filter.d"), { recursive: true });
    await cp(FILTER, join(conf, "filter.d/gateway.conf"));
    const jail = join(conf, "jail.d/gateway.local");
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      FAIL2BAN_JAIL_FILE: jail,
      FAIL2BAN_LOGPATH: accessLog,
      FAIL2BAN_MAXRETRY: "4",
      FAIL2BAN_FINDTIME: "15m",
      FAIL2BAN_BANTIME: "2h",
      FAIL2BAN_IGNORE_IPS: "192.0.2.10,198.51.100.0/24",
    };
    await run("sh", [join(DOCKER_DIR, "render-jail.sh")], { env });

    const { stdout } = await run("fail2ban-client", ["-c", conf, "-d"], { maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain("['set', 'gateway', 'maxretry', 4]");
    expect(stdout).toContain("['set', 'gateway', 'findtime', '15m']");
    expect(stdout).toContain("['set', 'gateway', 'bantime', '2h']");
    expect(stdout).toContain(
      "['set', 'gateway', 'addignoreip', '127.0.0.1/8', '::1', '192.0.2.10', '198.51.100.0/24']",
    );
    expect(stdout).toContain(`['set', 'gateway', 'addlogpath', '${accessLog}', 'head']`);
    expect(stdout).toContain("['chain', 'DOCKER-USER']");

    await expect(
      run("sh", [join(DOCKER_DIR, "render-jail.sh")], { env: { ...env, FAIL2BAN_MAXRETRY: "3\nenabled = false" } }),
    ).rejects.toThrow(/FAIL2BAN_MAXRETRY must be a single line/);
    await expect(
      run("sh", [join(DOCKER_DIR, "render-jail.sh")], { env: { ...env, FAIL2BAN_BANTIME: "forever" } }),
    ).rejects.toThrow(/FAIL2BAN_BANTIME='forever'/);
  });
});
