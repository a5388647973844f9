// The pause between a team's own assign and remove of one challenge, in either order. Only the team's own actions
// start it: an instance that expired or failed leaves the team free to assign again at once.

/** Milliseconds left of a cooldown that began at `since`; 0 when none is running. */
export function cooldownLeftMs(since: Date | null, cooldownSeconds: number, now: Date = new Date()): number {
  if (!since || cooldownSeconds <= 0) return 0;
  return Math.max(0, since.getTime() + cooldownSeconds * 1000 - now.getTime());
}

export type RemovalCheck = { ok: true } | { ok: false; code: "cooldown"; retryAfterSeconds: number };

/** A remove right after the assign is refused for the cooldown; one already stopping is never refused. */
export function checkRemoval(
  instance: { state: string; created_at: Date },
  cooldownSeconds: number,
  now: Date = new Date(),
): RemovalCheck {
  if (instance.state === "stopping") return { ok: true };
  const leftMs = cooldownLeftMs(instance.created_at, cooldownSeconds, now);
  return leftMs > 0 ? { ok: false, code: "cooldown", retryAfterSeconds: Math.ceil(leftMs / 1000) } : { ok: true };
}
