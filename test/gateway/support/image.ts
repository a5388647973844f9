import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
const BASE_IMAGE = process.env.OFFLINE_BASE_IMAGE ?? "ctf-instancer-offline/debian:bookworm-minbase";
const CACHE = process.env.OFFLINE_CACHE_DIR ?? "/var/tmp/ctf-instancer-offline";
export const GATEWAY_TEST_IMAGE = "ctf-instancer-test/gateway:latest";

async function imageExists(image: string): Promise<boolean> {
  return run("docker", ["image", "inspect", image]).then(
    () => true,
    () => false,
  );
}

function debianMirror(): string {
  try {
    const sources = readFileSync("/etc/apt/sources.list.d/debian.sources", "utf8");
    const uri = /^URIs:\s*(\S+)/m.exec(sources)?.[1];
    if (uri) return uri;
  } catch {
    /* one-line format or none */
  }
  return "http://deb.debian.org/debian";
}

/**
 * The Debian minbase image the stand-ins start from (no registry here). Made the same way and under the same
 * name and cache file as docker/offline/build-stand-ins.sh does, so either may create it for the other.
 */
export async function ensureBaseImage(): Promise<string> {
  if (await imageExists(BASE_IMAGE)) return BASE_IMAGE;
  const tarball = join(CACHE, "debian-bookworm-minbase.tar");
  if (!existsSync(tarball)) {
    await mkdir(CACHE, { recursive: true });
    const rootfs = await mkdtemp(join(CACHE, "rootfs."));
    try {
      await run("debootstrap", ["--variant=minbase", "bookworm", rootfs, debianMirror()], { maxBuffer: 64 << 20 });
      await run("sh", [
        "-c",
        `printf '#!/bin/sh\\nexit 101\\n' > "$1/usr/sbin/policy-rc.d" && chmod 0755 "$1/usr/sbin/policy-rc.d" &&
         rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/dev/* "$1"/proc/* "$1"/sys/* &&
         tar -C "$1" --numeric-owner -cf "$2.tmp" . && mv "$2.tmp" "$2"`,
        "sh",
        rootfs,
        tarball,
      ]);
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
  }
  await run("docker", [
    "import",
    "-c",
    'CMD ["bash"]',
    "-c",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "-c",
    "LABEL org.ctf-instancer.stand-in=true",
    tarball,
    BASE_IMAGE,
  ]);
  return BASE_IMAGE;
}

export function dockerBuild(args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn("docker", ["build", "-q", ...args], {
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? ok() : fail(new Error(`docker build failed: ${stderr}`))));
  });
}

/**
 * Builds docker/gateway.Dockerfile, from a context holding only what it copies, on the nginx image it names: the
 * stand-in docker/offline/build-stand-ins.sh makes (Debian's nginx laid out like the official image) unless a
 * real one exists.
 */
export async function buildGatewayImage(): Promise<string> {
  await run("bash", [join(ROOT, "docker/offline/build-stand-ins.sh"), "nginx"], { maxBuffer: 16 << 20 });
  const context = await mkdtemp(join(tmpdir(), "gw-image-"));
  try {
    await cp(join(ROOT, "gateway"), join(context, "gateway"), { recursive: true });
    await mkdir(join(context, "docker"));
    await cp(join(ROOT, "docker/gateway.Dockerfile"), join(context, "docker/gateway.Dockerfile"));
    await dockerBuild(["-t", GATEWAY_TEST_IMAGE, "-f", join(context, "docker/gateway.Dockerfile"), context]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return GATEWAY_TEST_IMAGE;
}
