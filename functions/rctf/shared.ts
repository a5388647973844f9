// What the four actions of rCTF's protocol share: mapping its ids onto ours, the instance as rCTF sees it, and
// the player-facing wording of our lifecycle's refusals.
import { getChallenge, type ChallengeRow } from "../../domain/challenges.ts";
import { ID_PATTERN, UUID_PATTERN } from "../../domain/ids.ts";
import type { InstanceRow } from "../../domain/instances.ts";
import type { Admission } from "../../domain/lifecycle/admission.ts";
import type { Renewal } from "../../domain/lifecycle/renewal.ts";
import type { ApiConfig } from "../../infra/config.ts";
import type { DbClient } from "../../infra/db.ts";
import { RctfRefusal, type InstanceDetails, type RctfEndpoint } from "../../http/rctf-protocol.ts";

/**
 * rCTF's team id (a UUID) as our team id: a UUID in lower case (it fits our id rule; case does not change which
 * UUID it is). Any other value must already be one of our ids, so two teams never map onto one.
 */
export function teamIdOf(teamId: string): string {
  if (UUID_PATTERN.test(teamId)) return teamId.toLowerCase();
  if (ID_PATTERN.test(teamId)) return teamId;
  throw new RctfRefusal(400, "The instancer cannot serve this team: its id is neither a UUID nor an instancer id.");
}

/** `challengeIntegrationId` names a challenge of our catalogue (organisers set it to the challenge's id here). */
export async function challengeOf(
  db: DbClient,
  integrationId: string,
  lock: "share" | null = null,
): Promise<ChallengeRow> {
  const known = ID_PATTERN.test(integrationId) ? await getChallenge(db, integrationId, lock) : null;
  if (!known)
    throw new RctfRefusal(
      404,
      `This challenge is not set up on the instancer ('${integrationId.slice(0, 64)}' is not one of its challenges). Tell the organisers.`,
    );
  return known;
}

/**
 * The instance as rCTF shows it. Before issue-13 exposures a challenge has one port, served as one `http`
 * endpoint; `bypassExpose` shows it without any `expose[]` configured in rCTF.
 */
export function detailsOf(row: InstanceRow | null, now: Date = new Date()): InstanceDetails {
  switch (row?.state) {
    case "requested":
    case "starting":
      return details("starting");
    case "running": {
      const left = row.expires_at ? Math.max(0, row.expires_at.getTime() - now.getTime()) : null;
      return { ...details("running"), timeLeftMilliseconds: left, endpoints: endpointsOf(row) };
    }
    case "stopping":
      return details("stopping");
    case "failed":
      return details("errored");
    default:
      return details("stopped");
  }
}

const details = (status: InstanceDetails["status"]): InstanceDetails => ({
  kind: "instancerInstanceDetails",
  status,
  timeLeftMilliseconds: null,
  endpoints: null,
});

/** One rCTF endpoint per exposure (http → http, tcp → tcp), titled by its container when there are several. */
function endpointsOf(row: InstanceRow): RctfEndpoint[] {
  const endpoints = row.endpoints ?? [];
  return endpoints.map((e) => ({
    kind: e.protocol,
    host: e.host.replace(/^\[(.*)\]$/, "$1"),
    port: e.host_port,
    title: endpoints.length > 1 ? `${e.container}:${e.port}` : "Instance",
    bypassExpose: true,
  }));
}

/**
 * rCTF's `timeoutMilliseconds` as the instance's lifetime, within ours: whole seconds, at most
 * MAX_LIFETIME_SECONDS. rCTF sends 0 when the organiser set none: the challenge's own TTL then applies (null).
 */
export function lifetimeSeconds(timeoutMilliseconds: number, config: ApiConfig): number | null {
  if (timeoutMilliseconds <= 0) return null;
  return Math.min(Math.ceil(timeoutMilliseconds / 1000), config.MAX_LIFETIME_SECONDS);
}

export function admissionRefusal(refused: Exclude<Admission, { ok: true }>, config: ApiConfig): RctfRefusal {
  switch (refused.code) {
    case "cooldown":
      return new RctfRefusal(
        429,
        `You stopped this instance moments ago. Wait ${refused.retryAfter ?? 1} s before starting it again.`,
      );
    case "team_quota_exceeded":
      return new RctfRefusal(
        409,
        `Your team already runs ${config.TEAM_MAX_INSTANCES} instance(s), the most it may. Stop one, then start this one.`,
      );
    case "capacity_exhausted":
      return new RctfRefusal(429, "Every instance of this event is in use. Try again in a few minutes.");
  }
}

export function renewalRefusal(refused: Exclude<Renewal, { ok: true }>, config: ApiConfig): RctfRefusal {
  switch (refused.code) {
    case "not_running":
      return new RctfRefusal(409, `The instance is ${refused.state}; only a running instance can be extended.`);
    case "max_lifetime_reached":
      return new RctfRefusal(
        409,
        `The instance has reached its maximum lifetime (${minutes(config.MAX_LIFETIME_SECONDS)}) and cannot be extended.`,
      );
    case "renewal_not_open":
      return new RctfRefusal(
        409,
        `Too early to extend: extending opens ${minutes(config.RENEW_WINDOW_SECONDS)} before the instance expires, at ${refused.opensAt.toISOString()}.`,
      );
  }
}

const minutes = (seconds: number) =>
  seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
