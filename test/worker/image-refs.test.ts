import { describe, expect, it } from "vitest";
import { canonicalImageRef } from "../../domain/engine-report.ts";

describe("image references as the engine lists them", () => {
  it("adds :latest where no tag or digest is given and drops Docker Hub's default names", () => {
    expect(canonicalImageRef("busybox")).toBe("busybox:latest");
    expect(canonicalImageRef("docker.io/library/busybox")).toBe("busybox:latest");
    expect(canonicalImageRef("docker.io/ctf/web:1")).toBe("ctf/web:1");
    expect(canonicalImageRef("localhost:5000/web")).toBe("localhost:5000/web:latest");
    expect(canonicalImageRef("registry.example:5000/a/b:2")).toBe("registry.example:5000/a/b:2");
    const digest = `web@sha256:${"a".repeat(64)}`;
    expect(canonicalImageRef(digest)).toBe(digest);
    expect(canonicalImageRef(`sha256:${"b".repeat(64)}`)).toBe(`sha256:${"b".repeat(64)}`);
  });
});
