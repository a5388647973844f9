// Flags a CTF platform mints itself and hands us when it starts an instance (rCTF sends one per flag rule of the
// challenge). The instance carries all of them; only the platform's per-team flag is recorded as the team's flag,
// so /flags/verify and cheat detection keep working, while a flag every team shares never makes teams look alike.
import { z } from "zod";
import type { DbClient } from "../infra/db.ts";
import { storableString } from "./text.ts";

/** rCTF's name for its per-team flag rule. */
export const PER_TEAM_FLAG_PROVIDER = "flags/dynamic";

export const platformFlagSchema = z.object({
  provider: storableString().max(128),
  flag: storableString().max(1024),
});
export type PlatformFlag = z.infer<typeof platformFlagSchema>;

export interface PlatformStart {
  flags: PlatformFlag[];
  /** The instance's lifetime, set when it starts running; null keeps the challenge's. */
  ttlSeconds: number | null;
}

/** Records what the platform asked for, in the transaction that created the instance. */
export async function recordPlatformStart(db: DbClient, instanceId: string, start: PlatformStart): Promise<void> {
  await db.query("INSERT INTO platform_starts (instance_id, flags, ttl_seconds) VALUES ($1, $2, $3)", [
    instanceId,
    JSON.stringify(start.flags.map(({ provider, flag }) => ({ provider, flag }))),
    start.ttlSeconds,
  ]);
}

export async function platformStartOf(db: DbClient, instanceId: string): Promise<PlatformStart | null> {
  const res = await db.query<{ flags: PlatformFlag[]; ttl_seconds: number | null }>(
    "SELECT flags, ttl_seconds FROM platform_starts WHERE instance_id = $1",
    [instanceId],
  );
  const row = res.rows[0];
  return row ? { flags: row.flags, ttlSeconds: row.ttl_seconds } : null;
}

/** Same flags from the same rules, in the same order: a repeated start converges on the live instance. */
export function sameFlags(a: readonly PlatformFlag[], b: readonly PlatformFlag[]): boolean {
  return a.length === b.length && a.every((f, i) => f.provider === b[i]!.provider && f.flag === b[i]!.flag);
}

/**
 * The instance's environment for platform flags: FLAG is the first, FLAGS all of them as a JSON list of
 * `{provider, flag}`. Empty when the platform sent none (the challenge's own flag, if any, stays).
 */
export async function platformFlagEnv(db: DbClient, instanceId: string): Promise<Record<string, string>> {
  const flags = (await platformStartOf(db, instanceId))?.flags ?? [];
  if (flags.length === 0) return {};
  // jsonb keeps keys in its own order; FLAGS lists them as rCTF sends them.
  return { FLAG: flags[0]!.flag, FLAGS: JSON.stringify(flags.map(({ provider, flag }) => ({ provider, flag }))) };
}

export type TeamFlagRecord = { ok: true } | { ok: false; reason: "taken" };

/**
 * Records the platform's per-team flag (the first `flags/dynamic` entry) as the team's flag for the challenge; it
 * replaces an earlier one, since the platform is where flags are checked. A flag another team already holds for
 * the challenge is refused: recording it would make the two teams indistinguishable.
 */
export async function recordPlatformTeamFlag(
  db: DbClient,
  teamId: string,
  challengeId: string,
  flags: readonly PlatformFlag[],
): Promise<TeamFlagRecord> {
  const perTeam = flags.find((f) => f.provider === PER_TEAM_FLAG_PROVIDER);
  if (!perTeam) return { ok: true };
  const owner = await db.query<{ team_id: string }>(
    "SELECT team_id FROM issued_flags WHERE challenge_id = $1 AND flag = $2",
    [challengeId, perTeam.flag],
  );
  const holder = owner.rows[0]?.team_id;
  if (holder !== undefined && holder !== teamId) return { ok: false, reason: "taken" };
  await db.query(
    `INSERT INTO issued_flags (team_id, challenge_id, flag) VALUES ($1, $2, $3)
     ON CONFLICT (team_id, challenge_id) DO UPDATE SET flag = EXCLUDED.flag, issued_at = now()
       WHERE issued_flags.flag IS DISTINCT FROM EXCLUDED.flag`,
    [teamId, challengeId, perTeam.flag],
  );
  return { ok: true };
}

/** Whether any team has a flag recorded for the challenge (a platform's per-team flags make it one that has). */
export async function challengeHasRecordedFlags(db: DbClient, challengeId: string): Promise<boolean> {
  const res = await db.query("SELECT 1 FROM issued_flags WHERE challenge_id = $1 LIMIT 1", [challengeId]);
  return (res.rowCount ?? 0) > 0;
}
