// What the organiser's dashboard shows, read from the instances table (the source of truth).
import type { DbClient } from "../infra/db.ts";
import { LIVE_STATES, type InstanceRow, type InstanceState } from "./instances.ts";

const LIVE = LIVE_STATES as readonly string[];

/** Upper bounds (seconds) of the start-latency histogram's buckets; the last bucket has none. */
export const LATENCY_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120] as const;
/** The window the latency histogram and the failure series cover, and the width of one failure bar. */
export const WINDOW_MINUTES = 180;
export const FAILURE_BIN_MINUTES = 10;

export interface ChallengeCounts {
  challenge_id: string;
  live: number;
  running: number;
  failed_recently: number;
}

/** Live instances per challenge by state, with failures within the window. */
export async function countsByChallenge(db: DbClient): Promise<ChallengeCounts[]> {
  const res = await db.query<{ challenge_id: string; state: InstanceState; n: number }>(
    `SELECT challenge_id, state, count(*)::int AS n FROM instances
     WHERE state = ANY($1::instance_state[])
        OR (state = 'failed' AND removed_at > now() - make_interval(mins => $2))
     GROUP BY challenge_id, state`,
    [LIVE, WINDOW_MINUTES],
  );
  const by = new Map<string, ChallengeCounts>();
  for (const r of res.rows) {
    const c = by.get(r.challenge_id) ?? { challenge_id: r.challenge_id, live: 0, running: 0, failed_recently: 0 };
    if (r.state === "failed") c.failed_recently += r.n;
    else c.live += r.n;
    if (r.state === "running") c.running += r.n;
    by.set(r.challenge_id, c);
  }
  return [...by.values()].sort((a, b) => a.challenge_id.localeCompare(b.challenge_id));
}

/** How many starts within the window took up to each bucket's bound (not cumulative); the last is "longer". */
export async function startLatencyHistogram(db: DbClient): Promise<number[]> {
  const res = await db.query<{ seconds: number }>(
    `SELECT extract(epoch FROM started_at - created_at)::float8 AS seconds FROM instances
     WHERE started_at > now() - make_interval(mins => $1)`,
    [WINDOW_MINUTES],
  );
  const counts: number[] = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  for (const { seconds } of res.rows) {
    const i = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    counts[i === -1 ? LATENCY_BUCKETS.length : i]! += 1;
  }
  return counts;
}

/** Failed starts per bin over the window, oldest first, every bin present (zero when nothing failed). */
export async function failuresOverTime(db: DbClient, now = new Date()): Promise<{ at: string; failures: number }[]> {
  const binMs = FAILURE_BIN_MINUTES * 60_000;
  const res = await db.query<{ bin: number; n: number }>(
    `SELECT floor(extract(epoch FROM removed_at) * 1000 / $2)::float8 AS bin, count(*)::int AS n FROM instances
     WHERE state = 'failed' AND removed_at > now() - make_interval(mins => $1)
     GROUP BY 1`,
    [WINDOW_MINUTES, binMs],
  );
  const byBin = new Map(res.rows.map((r) => [r.bin, r.n]));
  const last = Math.floor(now.getTime() / binMs);
  const bins = WINDOW_MINUTES / FAILURE_BIN_MINUTES;
  const out: { at: string; failures: number }[] = [];
  for (let b = last - bins + 1; b <= last; b++)
    out.push({ at: new Date(b * binMs).toISOString(), failures: byBin.get(b) ?? 0 });
  return out;
}

/** Every live instance and the most recent ended ones: what the dashboard's table starts from. */
export async function dashboardRows(db: DbClient, endedLimit = 200): Promise<InstanceRow[]> {
  const res = await db.query<InstanceRow>(
    `(SELECT * FROM instances WHERE state = ANY($1::instance_state[]))
     UNION ALL
     (SELECT * FROM instances WHERE NOT (state = ANY($1::instance_state[])) ORDER BY updated_at DESC LIMIT $2)
     ORDER BY created_at DESC`,
    [LIVE, endedLimit],
  );
  return res.rows;
}

/** The live instances of one challenge (for removing them all). */
export async function liveOfChallenge(db: DbClient, challengeId: string): Promise<InstanceRow[]> {
  const res = await db.query<InstanceRow>(
    "SELECT * FROM instances WHERE challenge_id = $1 AND state = ANY($2::instance_state[])",
    [challengeId, LIVE],
  );
  return res.rows;
}
