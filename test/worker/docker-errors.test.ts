import { describe, expect, it } from "vitest";
import { isTransientDockerError } from "../../worker/docker/errors.ts";

const engineError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

describe("which engine errors a start retries", () => {
  it("retries 5xx, an engine that does not answer, and a stale network attachment", () => {
    expect(isTransientDockerError(engineError(500, "(HTTP code 500) server error - driver failed"))).toBe(true);
    expect(isTransientDockerError(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(
      isTransientDockerError(
        engineError(403, "(HTTP code 403) unexpected - endpoint with name ctfi-a-1 already exists in network ctfi-a-1"),
      ),
    ).toBe(true);
    expect(isTransientDockerError(engineError(404, "(HTTP code 404) no such network - network 3f2a not found"))).toBe(
      true,
    );
  });

  it("does not retry what another attempt cannot fix", () => {
    expect(isTransientDockerError(engineError(404, "(HTTP code 404) no such image - busybox:nope"))).toBe(false);
    expect(isTransientDockerError(engineError(400, "(HTTP code 400) bad parameter - invalid mount"))).toBe(false);
    expect(isTransientDockerError(new Error("something else"))).toBe(false);
  });
});
