import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "./errors.ts";
import { createTeamTokenVerifier, looksLikeJwt } from "./team-token.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Who is calling: an organiser with an admin token, or one team with a team token. */
export type Principal = { kind: "admin" } | { kind: "team"; teamId: string };

/**
 * Reads an `Authorization: Bearer` header. Admin tokens are compared as fixed-length digests in constant time,
 * always against every token, so the answer time does not depend on how much matched; a token that is not one of
 * them and has the shape of a JWT is tried as a team token when TEAM_TOKEN_SECRET is set.
 */
export function createAuthenticator(
  adminTokens: readonly string[],
  teamTokenSecret: string | undefined,
): (header: string | undefined) => Promise<Principal> {
  const digests = adminTokens.map(digest);
  const verifyTeam = teamTokenSecret ? createTeamTokenVerifier(teamTokenSecret) : null;
  return async (header) => {
    // The scheme name is case-insensitive (RFC 7235): "bearer" is as good as "Bearer".
    const match = /^Bearer +([^\s]+)$/i.exec(header ?? "");
    if (!match)
      throw new AppError("unauthorized", "missing or malformed Authorization header (expected: Bearer <token>)");
    const token = match[1]!;
    const presented = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, presented) || ok;
    if (ok) return { kind: "admin" };
    if (verifyTeam && looksLikeJwt(token)) return { kind: "team", ...(await verifyTeam(token)) };
    throw new AppError("unauthorized", "invalid token");
  };
}

/** A team token acts for its own team only: anything else is 403 with the envelope. */
export function assertMayActFor(principal: Principal, teamId: string): void {
  if (principal.kind === "team" && principal.teamId !== teamId)
    throw new AppError("forbidden", "this team token may act only for its own team");
}
