import { createHmac } from "node:crypto";
import type { DbClient } from "../infra/db.ts";

/**
 * A team's flag for a challenge: the challenge's template with `{}` replaced by an HMAC of (challenge, team)
 * under the operator's secret. Deterministic, so re-issuing after a container is gone gives the same flag.
 */
export function deriveFlag(secret: string, teamId: string, challengeId: string, format: string): string {
  const mac = createHmac("sha256", secret).update(`${challengeId}\n${teamId}`).digest("hex").slice(0, 32);
  return format.replace("{}", mac);
}

/** Records the team's flag (once; it outlives every container) and returns it. */
export async function issueFlag(db: DbClient, teamId: string, challengeId: string, flag: string): Promise<string> {
  await db.query(
    `INSERT INTO issued_flags (team_id, challenge_id, flag) VALUES ($1, $2, $3)
     ON CONFLICT (team_id, challenge_id) DO NOTHING`,
    [teamId, challengeId, flag],
  );
  return flag;
}

export async function issuedFlag(db: DbClient, teamId: string, challengeId: string): Promise<string | null> {
  const res = await db.query<{ flag: string }>(
    "SELECT flag FROM issued_flags WHERE team_id = $1 AND challenge_id = $2",
    [teamId, challengeId],
  );
  return res.rows[0]?.flag ?? null;
}

/** Which team a flag was issued to, for one challenge. */
export async function flagOwner(db: DbClient, challengeId: string, flag: string): Promise<string | null> {
  const res = await db.query<{ team_id: string }>(
    "SELECT team_id FROM issued_flags WHERE challenge_id = $1 AND flag = $2",
    [challengeId, flag],
  );
  return res.rows[0]?.team_id ?? null;
}

export type FlagResult = "correct" | "wrong" | "other_team";

export async function recordSubmission(
  db: DbClient,
  s: { teamId: string; challengeId: string; result: FlagResult; ownerTeamId: string | null; requestId: string },
): Promise<void> {
  await db.query(
    `INSERT INTO flag_submissions (team_id, challenge_id, result, owner_team_id, request_id)
     VALUES ($1, $2, $3, $4, $5)`,
    [s.teamId, s.challengeId, s.result, s.ownerTeamId, s.requestId],
  );
}
