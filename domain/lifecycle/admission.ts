import type pg from "pg";
import { cooldownLeftMs } from "./cooldown.ts";
import type { ApiConfig } from "../../infra/config.ts";
import {
  findLive,
  countLive,
  countLiveContainers,
  insertRequestedOrGetLive,
  lastRemovedAt,
  type InstanceRow,
} from "../instances.ts";

export interface AdmissionLimits {
  teamMaxInstances: number;
  maxLiveInstances: number;
  /** Containers of all live instances together: a challenge of several containers counts each. */
  maxLiveContainers: number;
  cooldownSeconds: number;
}

export const admissionLimits = (config: ApiConfig): AdmissionLimits => ({
  teamMaxInstances: config.TEAM_MAX_INSTANCES,
  maxLiveInstances: config.MAX_LIVE_INSTANCES,
  maxLiveContainers: config.MAX_LIVE_CONTAINERS,
  cooldownSeconds: config.COOLDOWN_SECONDS,
});

export type Admission =
  | { ok: true; row: InstanceRow; created: boolean }
  | {
      ok: false;
      code: "cooldown" | "team_quota_exceeded" | "capacity_exhausted";
      message: string;
      retryAfter?: number;
    };

/**
 * Decides, inside the caller's transaction, whether a team may have a new instance, and inserts it if so.
 * A per-team advisory lock serialises one team's requests, so racing assigns cannot exceed its quota; a global
 * one (held only around the count and insert) does the same for the capacity cap. A live instance is returned
 * as it is: repeating an assign is never refused.
 */
export async function admit(
  tx: pg.PoolClient,
  input: { teamId: string; challengeId: string; requestId: string; containers: number },
  limits: AdmissionLimits,
): Promise<Admission> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('ctfi:team:' || $1))", [input.teamId]);
  const live = await findLive(tx, input.teamId, input.challengeId);
  if (live) return { ok: true, row: live, created: false };

  if (limits.cooldownSeconds > 0) {
    const removedAt = await lastRemovedAt(tx, input.teamId, input.challengeId);
    const waitMs = cooldownLeftMs(removedAt, limits.cooldownSeconds);
    if (waitMs > 0)
      return {
        ok: false,
        code: "cooldown",
        message: `this team removed its instance of '${input.challengeId}' moments ago; wait before assigning again`,
        retryAfter: Math.ceil(waitMs / 1000),
      };
  }

  const teamLive = await countLive(tx, { teamId: input.teamId });
  if (teamLive >= limits.teamMaxInstances)
    return {
      ok: false,
      code: "team_quota_exceeded",
      message: `team '${input.teamId}' already has ${teamLive} live instance(s), the maximum; remove one first`,
    };

  await tx.query("SELECT pg_advisory_xact_lock(hashtext('ctfi:capacity'))");
  if ((await countLive(tx)) >= limits.maxLiveInstances)
    return {
      ok: false,
      code: "capacity_exhausted",
      message: "the event's instance capacity is used up; try again when other instances have ended",
      retryAfter: 30,
    };
  if ((await countLiveContainers(tx)) + input.containers > limits.maxLiveContainers)
    return {
      ok: false,
      code: "capacity_exhausted",
      message: "the event's container capacity is used up; try again when other instances have ended",
      retryAfter: 30,
    };
  return { ok: true, ...(await insertRequestedOrGetLive(tx, input)) };
}
