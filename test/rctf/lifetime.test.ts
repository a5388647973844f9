import { describe, expect, it } from "vitest";
import { decideRenewal } from "../../domain/lifecycle/renewal.ts";
import { sameFlags } from "../../domain/platform-flags.ts";
import { loadApiConfig } from "../../infra/config.ts";
import { detailsOf, lifetimeSeconds, teamIdOf } from "../../functions/rctf/shared.ts";
import type { InstanceRow } from "../../domain/instances.ts";

const config = loadApiConfig({
  DATABASE_URL: "postgres://a@b/c",
  REDIS_URL: "redis://r",
  API_TOKENS: "aaaaaaaaaaaaaaaa",
  MAX_LIFETIME_SECONDS: "7200",
});
const policy = { renewWindowSeconds: 900, maxLifetimeSeconds: 7200 };
const at = (s: number) => new Date(Date.UTC(2026, 11, 1) + s * 1000);

describe("rCTF lifetime, renewal from now, ids and details", () => {
  it("timeoutMilliseconds becomes whole seconds within MAX_LIFETIME_SECONDS; 0 keeps the challenge's TTL", () => {
    expect(lifetimeSeconds(0, config)).toBeNull();
    expect(lifetimeSeconds(1, config)).toBe(1);
    expect(lifetimeSeconds(600_000, config)).toBe(600);
    expect(lifetimeSeconds(600_001, config)).toBe(601);
    expect(lifetimeSeconds(10 * 86_400_000, config)).toBe(7200);
  });

  it("renewing from now gives now + TTL, never less than the current expiry, never past the cap", () => {
    const instance = { state: "running", started_at: at(0), expires_at: at(3600) };
    expect(decideRenewal(instance, 1800, policy, at(3000), "now")).toEqual({ ok: true, expiresAt: at(4800) });
    // now + TTL before the current expiry: the expiry stays.
    expect(decideRenewal(instance, 60, policy, at(3000), "now")).toEqual({ ok: true, expiresAt: at(3600) });
    expect(decideRenewal(instance, 86_400, policy, at(3000), "now")).toEqual({ ok: true, expiresAt: at(7200) });
    // The native rule is unchanged: from the expiry.
    expect(decideRenewal(instance, 1800, policy, at(3000))).toEqual({ ok: true, expiresAt: at(5400) });
    expect(decideRenewal(instance, 1800, policy, at(2000), "now")).toMatchObject({
      ok: false,
      code: "renewal_not_open",
      opensAt: at(2700),
    });
  });

  it("maps rCTF team ids onto ours without merging two teams", () => {
    expect(teamIdOf("5B0F1B9E-0D7A-4C2E-9A59-1F1F2B6F3C11")).toBe("5b0f1b9e-0d7a-4c2e-9a59-1f1f2b6f3c11");
    expect(teamIdOf("team1")).toBe("team1");
    for (const bad of ["Team1", "a b", "-x", "x".repeat(65)])
      expect(() => teamIdOf(bad)).toThrow(/cannot serve this team/);
  });

  it("compares flags by rule and value, in order", () => {
    const a = { provider: "flags/dynamic", flag: "f1" };
    const b = { provider: "flags/static", flag: "f2" };
    expect(sameFlags([a, b], [{ ...a }, { ...b }])).toBe(true);
    expect(sameFlags([a, b], [b, a])).toBe(false);
    expect(sameFlags([a], [{ ...a, provider: "flags/static" }])).toBe(false);
    expect(sameFlags([], [])).toBe(true);
  });

  it("shows a running instance's time left and an endpoint per exposure that bypasses expose", () => {
    const endpoint = { container: "main", port: 80, upstream: "[::1]:32000", route: "abc" };
    const row = {
      state: "running",
      address: "http://[::1]:32000",
      host_port: 32000,
      expires_at: at(100),
      endpoints: [{ ...endpoint, protocol: "http", host: "[::1]", host_port: 32000 }],
    } as unknown as InstanceRow;
    expect(detailsOf(row, at(40))).toEqual({
      kind: "instancerInstanceDetails",
      status: "running",
      timeLeftMilliseconds: 60_000,
      endpoints: [{ kind: "http", host: "::1", port: 32000, title: "Instance", bypassExpose: true }],
    });
    const two = {
      ...row,
      endpoints: [
        { ...endpoint, protocol: "http", host: "10.0.0.2", host_port: 32001 },
        { ...endpoint, container: "pwn", port: 1337, protocol: "tcp", host: "10.0.0.3", host_port: 32768, route: null },
      ],
    } as unknown as InstanceRow;
    expect(detailsOf(two, at(40)).endpoints).toEqual([
      { kind: "http", host: "10.0.0.2", port: 32001, title: "main:80", bypassExpose: true },
      { kind: "tcp", host: "10.0.0.3", port: 32768, title: "pwn:1337", bypassExpose: true },
    ]);
    expect(detailsOf({ ...row, expires_at: at(10) }, at(40)).timeLeftMilliseconds).toBe(0);
    for (const [state, status] of [
      ["requested", "starting"],
      ["starting", "starting"],
      ["stopping", "stopping"],
      ["failed", "errored"],
      ["removed", "stopped"],
    ] as const)
      expect(detailsOf({ ...row, state }).status).toBe(status);
  });
});
