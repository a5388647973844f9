// When an instance may be renewed, and until when. The one place the renewal window and the lifetime cap live.

export interface RenewalPolicy {
  /** Renewal opens this long before expiry. */
  renewWindowSeconds: number;
  /** No renewal takes an instance past this long after its start. */
  maxLifetimeSeconds: number;
}

export interface RenewableInstance {
  state: string;
  started_at: Date | null;
  expires_at: Date | null;
}

export type Renewal =
  | { ok: true; expiresAt: Date }
  | { ok: false; code: "not_running"; state: string }
  | { ok: false; code: "max_lifetime_reached"; expiresAt: Date }
  | { ok: false; code: "renewal_not_open"; opensAt: Date; expiresAt: Date };

/** When renewal of an instance expiring at `expiresAt` opens. */
export function renewableAt(expiresAt: Date, renewWindowSeconds: number): Date {
  return new Date(expiresAt.getTime() - renewWindowSeconds * 1000);
}

/**
 * Renewing moves expiry by the TTL, capped at start + the maximum lifetime. The cap is checked before the window:
 * waiting for the window would only lead to the same refusal. `from: "now"` renews to now + TTL instead (a
 * platform's "extend" means that), never earlier than the current expiry.
 */
export function decideRenewal(
  instance: RenewableInstance,
  ttlSeconds: number,
  policy: RenewalPolicy,
  now: Date = new Date(),
  from: "expiry" | "now" = "expiry",
): Renewal {
  const { state, started_at: startedAt, expires_at: expiresAt } = instance;
  if (state !== "running" || !startedAt || !expiresAt) return { ok: false, code: "not_running", state };
  const cap = startedAt.getTime() + policy.maxLifetimeSeconds * 1000;
  if (cap <= expiresAt.getTime()) return { ok: false, code: "max_lifetime_reached", expiresAt };
  const opensAt = renewableAt(expiresAt, policy.renewWindowSeconds);
  if (now < opensAt) return { ok: false, code: "renewal_not_open", opensAt, expiresAt };
  const base = from === "now" ? now.getTime() : expiresAt.getTime();
  const renewed = Math.max(base + ttlSeconds * 1000, expiresAt.getTime());
  return { ok: true, expiresAt: new Date(Math.min(renewed, cap)) };
}
