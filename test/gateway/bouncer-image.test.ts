import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerBuild, ensureBaseImage } from "./support/image.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const IMAGE = "ctf-instancer-test/crowdsec-firewall-bouncer:latest";

describe("CrowdSec firewall bouncer image (Debian's package)", () => {
  let context: string;

  beforeAll(async () => {
    // debian:bookworm-slim cannot be pulled here: the same Debian release as a minbase stand-in.
    const base = await ensureBaseImage();
    context = await mkdtemp(join(tmpdir(), "gw-bouncer-"));
    await mkdir(join(context, "docker"));
    await cp(join(ROOT, "docker/crowdsec"), join(context, "docker/crowdsec"), { recursive: true });
    await dockerBuild([
      "--build-arg",
      `DEBIAN_IMAGE=${base}`,
      "-t",
      IMAGE,
      "-f",
      join(context, "docker/crowdsec/firewall-bouncer.Dockerfile"),
      context,
    ]);
  }, 600_000);
  afterAll(async () => {
    if (context) await rm(context, { recursive: true, force: true });
  });

  it("the configuration rendered from the environment is accepted by the bouncer itself (-t)", async () => {
    const key = "0123456789abcdef0123456789abcdef";
    const { stderr } = await run("docker", [
      "run",
      "--rm",
      "--network",
      "none",
      "-e",
      `CROWDSEC_BOUNCER_API_KEY=${key}`,
      IMAGE,
      "-t",
    ]);
    expect(stderr).toContain("config is valid");
    expect(stderr).not.toMatch(/level=(warning|error|fatal)/);
  });

  it("refuses to start without a usable API key", async () => {
    const failed = run("docker", ["run", "--rm", "--network", "none", IMAGE, "-t"]);
    await expect(failed).rejects.toMatchObject({
      code: 64,
      stderr: expect.stringContaining("CROWDSEC_BOUNCER_API_KEY"),
    });
  });
});
