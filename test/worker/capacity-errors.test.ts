import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { portCapacityError, startIfNeeded } from "../../worker/docker/containers.ts";
import { PermanentStartError } from "../../worker/engine/engine.ts";
import { ensureInstanceNetwork } from "../../worker/docker/networks.ts";

// Exhausting a real engine's address pools or port range is out of reach in a test run; these check that the
// engine's own error texts become a clear, permanent capacity failure.
const engineError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
const labels = { deployment: "d", instanceId: "i", teamId: "t", challengeId: "c", requestId: "r" };

describe("capacity errors", () => {
  it("an engine out of address pools fails the instance with the remedy named", async () => {
    const docker = {
      createNetwork: async () => {
        throw engineError(400, "could not find an available, non-overlapping IPv4 address pool among the defaults");
      },
    } as unknown as Docker;
    const err = await ensureInstanceNetwork(docker, labels, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentStartError);
    expect((err as Error).message).toMatch(/no free address pool .* default-address-pools/);
  });

  it("an engine out of host ports fails the instance as a capacity problem", async () => {
    const container = {
      start: async () => {
        throw engineError(500, "driver failed programming external connectivity: all ports are allocated");
      },
    } as unknown as Docker.Container;
    const err = await startIfNeeded(container).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentStartError);
    expect((err as Error).message).toBe("the Docker engine has no free host port left for another instance");
    expect(portCapacityError(new Error("something else"))).toBeNull();
  });
});
