import type { DbClient } from "../infra/db.ts";

export const INSTANCE_STATES = ["requested", "starting", "running", "stopping", "removed", "failed"] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];
export const LIVE_STATES: readonly InstanceState[] = ["requested", "starting", "running", "stopping"];
/** LIVE_STATES as an SQL list (constants only, never input); also the predicate of the partial unique index. */
const LIVE_IN = `(${LIVE_STATES.map((state) => `'${state}'`).join(", ")})`;

/** Where one exposure of a running instance answers. */
export interface InstanceEndpoint {
  /** The container (by name) and its port. */
  container: string;
  port: number;
  protocol: "http" | "tcp";
  /** Where players connect: host and port. */
  host: string;
  host_port: number;
  /** Where the worker (and the gateway beside it) reach the same port: `host:port`. */
  upstream: string;
  /** The DNS label it is served at under CHALLENGE_DOMAIN (`http` only): the slug, or slug-N for the Nth. */
  route: string | null;
}

export interface InstanceRow {
  id: string;
  team_id: string;
  challenge_id: string;
  state: InstanceState;
  container_id: string | null;
  host_port: number | null;
  address: string | null;
  error: string | null;
  request_id: string;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  removed_at: Date | null;
  expires_at: Date | null;
  renewals: number;
  state_reason: string | null;
  restarts: number;
  /** Unguessable, never reused: the instance's web name under CHALLENGE_DOMAIN. */
  slug: string;
  /** Once running: every exposure's address, first the one `address`/`host_port` show. */
  endpoints: InstanceEndpoint[] | null;
}

/**
 * Inserts a `requested` row unless the team already has a live one for this challenge; either way returns the
 * live row. The partial unique index makes racing callers converge on one row.
 */
export async function insertRequestedOrGetLive(
  db: DbClient,
  input: { teamId: string; challengeId: string; requestId: string },
): Promise<{ row: InstanceRow; created: boolean }> {
  const inserted = await db.query<InstanceRow>(
    `INSERT INTO instances (team_id, challenge_id, request_id) VALUES ($1, $2, $3)
     ON CONFLICT (team_id, challenge_id) WHERE state IN ${LIVE_IN}
     DO NOTHING RETURNING *`,
    [input.teamId, input.challengeId, input.requestId],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const live = await findLive(db, input.teamId, input.challengeId);
  if (!live) throw new Error("live instance vanished between insert conflict and read");
  return { row: live, created: false };
}

export async function findLive(db: DbClient, teamId: string, challengeId: string): Promise<InstanceRow | null> {
  const res = await db.query<InstanceRow>(
    `SELECT * FROM instances WHERE team_id = $1 AND challenge_id = $2
       AND state IN ${LIVE_IN}`,
    [teamId, challengeId],
  );
  return res.rows[0] ?? null;
}

export async function getInstance(db: DbClient, id: string): Promise<InstanceRow | null> {
  const res = await db.query<InstanceRow>("SELECT * FROM instances WHERE id = $1", [id]);
  return res.rows[0] ?? null;
}

type TransitionFields = Partial<
  Pick<InstanceRow, "container_id" | "host_port" | "address" | "error" | "state_reason" | "restarts" | "endpoints">
> & {
  /** Sets expires_at to now + this many seconds. */
  ttlSeconds?: number;
};

/**
 * Moves an instance from one of `from` to `to` in a single conditional UPDATE; returns null when the row was not
 * in an expected state (someone else moved it), which makes retries and duplicate jobs harmless.
 */
export async function transition(
  db: DbClient,
  id: string,
  from: readonly InstanceState[],
  to: InstanceState,
  fields: TransitionFields = {},
): Promise<InstanceRow | null> {
  const sets = ["state = $3", "updated_at = now()"];
  const values: unknown[] = [id, from, to];
  const { ttlSeconds, ...columns } = fields;
  for (const [key, value] of Object.entries(columns)) {
    // pg would send an array as a Postgres array: a jsonb column takes its JSON text.
    values.push(key === "endpoints" && value !== null ? JSON.stringify(value) : value);
    sets.push(`${key} = $${values.length}`);
  }
  if (ttlSeconds !== undefined) {
    values.push(ttlSeconds);
    sets.push(`expires_at = now() + make_interval(secs => $${values.length})`);
  }
  if (to === "running") sets.push("started_at = now()");
  if (to === "removed" || to === "failed") sets.push("removed_at = now()");
  const res = await db.query<InstanceRow>(
    `UPDATE instances SET ${sets.join(", ")} WHERE id = $1 AND state = ANY($2::instance_state[]) RETURNING *`,
    values,
  );
  return res.rows[0] ?? null;
}

export interface InstanceFilter {
  teamId?: string;
  challengeId?: string;
  state?: InstanceState;
  limit: number;
  /** Rows that sort after this instance (newest first, by created_at then id). */
  afterId?: string;
}

export async function listInstances(db: DbClient, filter: InstanceFilter): Promise<InstanceRow[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace("?", `$${values.length}`));
  };
  if (filter.teamId) add("team_id = ?", filter.teamId);
  if (filter.challengeId) add("challenge_id = ?", filter.challengeId);
  if (filter.state) add("state = ?::instance_state", filter.state);
  if (filter.afterId)
    add("(created_at, id) < (SELECT created_at, id FROM instances WHERE id = ?::uuid)", filter.afterId);
  values.push(filter.limit);
  const res = await db.query<InstanceRow>(
    `SELECT * FROM instances ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  return res.rows;
}

/** The state_reason of an instance a team removed itself (POST /remove). */
export const REMOVED_ON_REQUEST = "removed on request";

/**
 * The most recent removal a team asked for of its instance of a challenge, for the cooldown between its own
 * operations; an instance that expired or failed was not removed by the team and starts no cooldown.
 */
export async function lastRemovedAt(db: DbClient, teamId: string, challengeId: string): Promise<Date | null> {
  const res = await db.query<{ removed_at: Date }>(
    `SELECT removed_at FROM instances WHERE team_id = $1 AND challenge_id = $2 AND state = 'removed'
       AND state_reason = $3
     ORDER BY removed_at DESC LIMIT 1`,
    [teamId, challengeId, REMOVED_ON_REQUEST],
  );
  return res.rows[0]?.removed_at ?? null;
}

export async function countLive(db: DbClient, by: { teamId?: string; challengeId?: string } = {}): Promise<number> {
  const res = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM instances
     WHERE state IN ${LIVE_IN}
       AND ($1::text IS NULL OR team_id = $1) AND ($2::text IS NULL OR challenge_id = $2)`,
    [by.teamId ?? null, by.challengeId ?? null],
  );
  return res.rows[0]!.n;
}

/** Containers of every live instance: each of its challenge's containers, one for the single form. */
export async function countLiveContainers(db: DbClient): Promise<number> {
  const res = await db.query<{ n: number }>(
    `SELECT coalesce(sum(coalesce(jsonb_array_length(c.containers), 1)), 0)::int AS n
     FROM instances i JOIN challenges c ON c.id = i.challenge_id WHERE i.state IN ${LIVE_IN}`,
  );
  return res.rows[0]!.n;
}

export async function countByState(db: DbClient): Promise<Record<InstanceState, number>> {
  const res = await db.query<{ state: InstanceState; n: number }>(
    "SELECT state, count(*)::int AS n FROM instances GROUP BY state",
  );
  const counts = Object.fromEntries(INSTANCE_STATES.map((s) => [s, 0])) as Record<InstanceState, number>;
  for (const r of res.rows) counts[r.state] = r.n;
  return counts;
}

/**
 * Renews a running instance to `expiresAt` (domain/lifecycle/renewal.ts decides it), only if no other renewal
 * happened since the caller read `renewals` (optimistic lock).
 */
export async function extendExpiry(
  db: DbClient,
  id: string,
  seenRenewals: number,
  expiresAt: Date,
): Promise<InstanceRow | null> {
  const res = await db.query<InstanceRow>(
    `UPDATE instances SET expires_at = $3, renewals = renewals + 1, updated_at = now()
     WHERE id = $1 AND state = 'running' AND renewals = $2 RETURNING *`,
    [id, seenRenewals, expiresAt],
  );
  return res.rows[0] ?? null;
}

/** Running instances whose time is up. */
export async function listExpired(db: DbClient, limit = 500): Promise<InstanceRow[]> {
  const res = await db.query<InstanceRow>(
    `SELECT * FROM instances WHERE state = 'running' AND expires_at <= now() ORDER BY expires_at LIMIT $1`,
    [limit],
  );
  return res.rows;
}

/** Every live row, for reconciling with what Docker runs. */
export async function listLive(db: DbClient): Promise<InstanceRow[]> {
  const res = await db.query<InstanceRow>(`SELECT * FROM instances WHERE state IN ${LIVE_IN}`);
  return res.rows;
}

/**
 * Rows sitting in a state whose job may have been lost (never enqueued because Redis was down, or dropped with a
 * crashed worker) for at least `olderThanMs`.
 */
export async function listStale(
  db: DbClient,
  state: "requested" | "starting" | "stopping",
  olderThanMs: number,
  limit = 500,
): Promise<InstanceRow[]> {
  const res = await db.query<InstanceRow>(
    `SELECT * FROM instances WHERE state = $1::instance_state AND updated_at < now() - make_interval(secs => $2)
     ORDER BY updated_at LIMIT $3`,
    [state, olderThanMs / 1000, limit],
  );
  return res.rows;
}
