/** Keep-by-count policy in the style of restic/borg: the last N, plus the newest of each recent day/week/month. */
export interface RetentionPolicy {
  keepLast: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
}

export interface Candidate {
  name: string;
  at: Date;
  /** Only verified backups count toward the policy; unverified ones are reported and left alone. */
  verified: boolean;
}

export interface RetentionPlan {
  keep: { name: string; reasons: string[] }[];
  delete: string[];
  ignored: string[];
}

/** Retention would remove every verified backup: never done, whatever the policy says. */
export class RetentionRefusedError extends Error {
  override name = "RetentionRefusedError";
}

const pad = (n: number) => String(n).padStart(2, "0");
const dayKey = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const monthKey = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;

/** ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday), in UTC. */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

export function planRetention(candidates: Candidate[], policy: RetentionPolicy): RetentionPlan {
  const verified = candidates.filter((c) => c.verified).sort((a, b) => b.at.getTime() - a.at.getTime());
  const reasons = new Map<string, string[]>();
  const mark = (name: string, reason: string) => reasons.set(name, [...(reasons.get(name) ?? []), reason]);

  if (verified[0]) mark(verified[0].name, "newest");
  verified.slice(0, policy.keepLast).forEach((c) => mark(c.name, "last"));
  const buckets: [string, number, (d: Date) => string][] = [
    ["daily", policy.keepDaily, dayKey],
    ["weekly", policy.keepWeekly, isoWeekKey],
    ["monthly", policy.keepMonthly, monthKey],
  ];
  for (const [label, count, key] of buckets) {
    const seen = new Set<string>();
    for (const c of verified) {
      if (seen.size >= count) break;
      const k = key(c.at);
      if (seen.has(k)) continue;
      seen.add(k);
      mark(c.name, `${label} ${k}`);
    }
  }
  const keep = verified
    .filter((c) => reasons.has(c.name))
    .map((c) => ({ name: c.name, reasons: reasons.get(c.name)! }));
  const remove = verified.filter((c) => !reasons.has(c.name)).map((c) => c.name);
  if (verified.length > 0 && keep.length === 0)
    throw new RetentionRefusedError(`refusing a prune that would delete all ${verified.length} verified backups`);
  return { keep, delete: remove, ignored: candidates.filter((c) => !c.verified).map((c) => c.name) };
}
