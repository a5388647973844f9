import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnv } from "../support/env.ts";
import { waitUntil } from "../support/wait.ts";
import { freePort, openTempDir } from "./support/gateway.ts";
import { buildGatewayImage } from "./support/image.ts";
import { StubUpstream } from "./support/upstream.ts";

const run = promisify(execFile);
const LABEL = `org.ctf-instancer.test=gateway-image-${randomBytes(4).toString("hex")}`;
const BROWSER = { accept: "text/html" };

/**
 * The gateway image as compose.prod.yml runs it: read-only root with a tmpfs, every capability dropped but
 * CHOWN/SETUID/SETGID, no-new-privileges, the flag volume read-only. On the host network of the suite's engine
 * (its own network namespace): it listens on the engine's address and reaches the test's stand-in API at this
 * host's address on the lab bridge.
 */
async function runGateway(env: Record<string, string>, flagDir: string): Promise<string> {
  const args = ["run", "-d", "--label", LABEL, "--network", "host", "--read-only", "--tmpfs", "/tmp"];
  args.push("--cap-drop", "ALL", "--cap-add", "CHOWN", "--cap-add", "SETUID", "--cap-add", "SETGID");
  args.push("--security-opt", "no-new-privileges:true", "-v", `${flagDir}:/run/gateway-flags:ro`);
  for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
  const { stdout } = await run("docker", [...args, image]);
  return stdout.trim();
}

let image = "";

describe("gateway image (docker/gateway.Dockerfile on an nginx stand-in)", () => {
  const upstream = new StubUpstream(testEnv.labHost);
  let dir: string;
  let flagDir: string;

  beforeAll(async () => {
    image = await buildGatewayImage();
    await upstream.start();
    dir = await openTempDir("gw-img-");
    flagDir = join(dir, "flags");
    await mkdir(flagDir, { mode: 0o755 });
  }, 600_000);
  afterAll(async () => {
    const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=${LABEL}`]).catch(() => ({ stdout: "" }));
    for (const id of stdout.split("\n").filter(Boolean)) await run("docker", ["rm", "-f", id]).catch(() => {});
    await upstream.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs hardened, proxies, serves maintenance when the API is gone or flagged, and stops gracefully", async () => {
    const port = await freePort();
    const id = await runGateway(
      {
        GATEWAY_LISTEN: `${testEnv.engineHost}:${port}`,
        GATEWAY_UPSTREAM: `${testEnv.labHost}:${upstream.port}`,
        MAINTENANCE_CONTACT_EMAIL: "orga@ctf.example",
        MAINTENANCE_CONTACT_LABEL: `Orga "desk" & <chat>`,
        MAINTENANCE_CONTACT_LINK: "https://chat.ctf.example",
      },
      flagDir,
    );
    const url = (path: string) => `http://${testEnv.engineHost}:${port}${path}`;
    await waitUntil("gateway container healthy", async () => (await fetch(url("/gateway/healthz"))).status === 200);

    // The healthcheck compose.prod.yml uses, inside the container.
    const { stdout: health } = await run("docker", [
      "exec",
      id,
      "wget",
      "-q",
      "-O",
      "-",
      `http://${testEnv.engineHost}:${port}/gateway/healthz`,
    ]);
    expect(health).toBe("ok\n");

    const ok = await fetch(url("/challenges"));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ upstream: true, path: "/challenges" });

    await upstream.stop();
    const page = await fetch(url("/"), { headers: BROWSER });
    expect(page.status).toBe(503);
    const html = await page.text();
    expect(html).toContain("Orga &quot;desk&quot; &amp; &lt;chat&gt;");
    expect(html).toContain('href="mailto:orga@ctf.example"');
    const api = await fetch(url("/instances"));
    expect(api.status).toBe(503);
    expect(((await api.json()) as any).error.code).toBe("maintenance");
    await upstream.start();
    expect((await fetch(url("/challenges"))).status).toBe(200);

    await run("sh", ["-c", `umask 022 && touch "${flagDir}/maintenance.on"`]);
    const flagged = await fetch(url("/challenges"));
    expect(flagged.status).toBe(503);
    expect(flagged.headers.get("cache-control")).toBe("no-store");
    await rm(join(flagDir, "maintenance.on"));
    expect((await fetch(url("/challenges"))).status).toBe(200);

    // SIGQUIT (the image's STOPSIGNAL): nginx finishes and exits cleanly, well before docker's kill deadline.
    const started = Date.now();
    await run("docker", ["stop", "-t", "20", id]);
    expect(Date.now() - started).toBeLessThan(15_000);
    const { stdout: exit } = await run("docker", ["inspect", "-f", "{{.State.ExitCode}}", id]);
    expect(exit.trim()).toBe("0");
  });

  it("refuses a bad value before nginx starts, naming the variable", async () => {
    const id = await runGateway({ GATEWAY_UPSTREAM: "web:5000; return 200" }, flagDir);
    const { stdout: status } = await run("docker", ["wait", id]);
    expect(status.trim()).toBe("64");
    const { stderr } = await run("docker", ["logs", id]);
    expect(stderr).toContain("gateway: GATEWAY_UPSTREAM='web:5000; return 200' must be host:port");
  });
});
