// The lifecycle rules on their own: no services, milliseconds.
import { describe, expect, it } from "vitest";
import { checkRemoval, cooldownLeftMs } from "../../domain/lifecycle/cooldown.ts";
import { ttlSeconds } from "../../domain/lifecycle/expiry.ts";
import { staleAfter } from "../../domain/lifecycle/recovery.ts";
import { decideRenewal, renewableAt } from "../../domain/lifecycle/renewal.ts";
import { afterDeath } from "../../domain/lifecycle/restart.ts";

const at = (s: number) => new Date(Date.UTC(2026, 11, 1) + s * 1000);
const policy = { renewWindowSeconds: 900, maxLifetimeSeconds: 14_400 };
const running = (startS: number, expiresS: number) => ({
  state: "running",
  started_at: at(startS),
  expires_at: at(expiresS),
});

describe("renewal", () => {
  it("opens the window before expiry and moves expiry by the TTL", () => {
    const instance = running(0, 3600);
    expect(decideRenewal(instance, 3600, policy, at(2699))).toEqual({
      ok: false,
      code: "renewal_not_open",
      opensAt: at(2700),
      expiresAt: at(3600),
    });
    expect(decideRenewal(instance, 3600, policy, at(2700))).toEqual({ ok: true, expiresAt: at(7200) });
    expect(renewableAt(at(3600), 900)).toEqual(at(2700));
  });

  it("never goes past the lifetime cap, and says so at once when the cap is reached", () => {
    expect(decideRenewal(running(0, 12_600), 3600, policy, at(12_000))).toEqual({ ok: true, expiresAt: at(14_400) });
    expect(decideRenewal(running(0, 14_400), 3600, policy, at(100))).toEqual({
      ok: false,
      code: "max_lifetime_reached",
      expiresAt: at(14_400),
    });
  });

  it("renews only a running instance", () => {
    expect(decideRenewal({ state: "starting", started_at: null, expires_at: null }, 60, policy)).toMatchObject({
      ok: false,
      code: "not_running",
      state: "starting",
    });
  });
});

describe("cooldown", () => {
  it("runs from the team's own action for COOLDOWN_SECONDS, and not at all when off or never started", () => {
    expect(cooldownLeftMs(at(0), 5, at(3))).toBe(2000);
    expect(cooldownLeftMs(at(0), 5, at(6))).toBe(0);
    expect(cooldownLeftMs(at(0), 0, at(0))).toBe(0);
    expect(cooldownLeftMs(null, 5, at(0))).toBe(0);
  });

  it("refuses a remove right after the assign with the seconds left, but never one already stopping", () => {
    expect(checkRemoval({ state: "running", created_at: at(0) }, 5, at(1.5))).toEqual({
      ok: false,
      code: "cooldown",
      retryAfterSeconds: 4,
    });
    expect(checkRemoval({ state: "stopping", created_at: at(0) }, 5, at(1))).toEqual({ ok: true });
    expect(checkRemoval({ state: "running", created_at: at(0) }, 5, at(5))).toEqual({ ok: true });
  });
});

describe("expiry, restarts and recovery", () => {
  it("takes the challenge's TTL, else the default", () => {
    expect(ttlSeconds({ ttl_seconds: 600 }, 3600)).toBe(600);
    expect(ttlSeconds({ ttl_seconds: null }, 3600)).toBe(3600);
    expect(ttlSeconds(null, 3600)).toBe(3600);
  });

  it("restarts a dead container only where the challenge asks and restarts remain", () => {
    expect(afterDeath({ restart_on_exit: true }, 0, 3)).toEqual({ action: "restart", attempt: 1 });
    expect(afterDeath({ restart_on_exit: true }, 3, 3)).toEqual({ action: "fail" });
    expect(afterDeath({ restart_on_exit: false }, 0, 3)).toEqual({ action: "fail" });
    expect(afterDeath(null, 0, 3)).toEqual({ action: "fail" });
    // A workload whose node went away did not fail itself: it moves while restarts remain.
    expect(afterDeath({ restart_on_exit: false }, 0, 3, true)).toEqual({ action: "restart", attempt: 1 });
    expect(afterDeath({ restart_on_exit: false }, 3, 3, true)).toEqual({ action: "fail" });
    expect(afterDeath(null, 0, 3, true)).toEqual({ action: "fail" });
  });

  it("gives a start the time it can take plus a crashed worker's lock before it is enqueued again", () => {
    expect(staleAfter({ startTimeoutSeconds: 30, jobLockSeconds: 30 })).toEqual({
      requestedMs: 5_000,
      startingMs: 95_000,
      stoppingMs: 15_000,
    });
  });
});
