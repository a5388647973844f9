import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRegistryAuths, registryOf } from "../../worker/swarm/registry-auth.ts";

const file = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "ctfi-auth-")), "config.json");
  writeFileSync(path, content);
  return path;
};
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("registry credentials for swarm services (REGISTRY_AUTH_FILE)", () => {
  it("names the registry of an image reference", () => {
    expect(registryOf("registry.example.org/ctf/web:1")).toBe("registry.example.org");
    expect(registryOf("localhost:5000/web")).toBe("localhost:5000");
    expect(registryOf("10.0.0.5:5000/web@sha256:ab")).toBe("10.0.0.5:5000");
    expect(registryOf("ctf/web:1")).toBe("https://index.docker.io/v1/");
    expect(registryOf("busybox")).toBe("https://index.docker.io/v1/");
  });

  it("reads what docker login writes, by registry", () => {
    const auths = loadRegistryAuths(
      file(
        JSON.stringify({
          auths: {
            "registry.example.org": { auth: b64("ci:s3cr:et") },
            "https://index.docker.io/v1/": { auth: b64("hub:pw") },
          },
        }),
      ),
    );
    expect(auths.get(registryOf("registry.example.org/ctf/web:1"))).toEqual({
      username: "ci",
      password: "s3cr:et",
      serveraddress: "registry.example.org",
    });
    expect(auths.get(registryOf("ctf/web"))?.username).toBe("hub");
    expect(auths.get(registryOf("other.example.org/x"))).toBeUndefined();
  });

  it("refuses a file it cannot use, naming the variable", () => {
    expect(() => loadRegistryAuths("/nonexistent/config.json")).toThrow(/^REGISTRY_AUTH_FILE: cannot read/);
    expect(() => loadRegistryAuths(file("{not json"))).toThrow(/^REGISTRY_AUTH_FILE/);
    expect(() => loadRegistryAuths(file(JSON.stringify({ auths: { r: { auth: b64("nocolon") } } })))).toThrow(
      /entry for r has no user:password/,
    );
  });
});
