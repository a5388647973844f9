import { errors, jwtVerify } from "jose";
import { ID_PATTERN } from "../domain/ids.ts";
import { AppError } from "./errors.ts";

/**
 * Team tokens: JWTs the CTF platform signs with TEAM_TOKEN_SECRET (HS256 only, so neither `alg: none` nor another
 * algorithm is accepted), carrying `team_id` and a required `exp`. The token may act for that one team only.
 */
export type TeamTokenVerifier = (token: string) => Promise<{ teamId: string }>;

/** A compact JWS: three base64url parts. Anything else is not a team token (and may be an admin token). */
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

export function createTeamTokenVerifier(secret: string): TeamTokenVerifier {
  const key = new TextEncoder().encode(secret);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, { algorithms: ["HS256"], requiredClaims: ["exp"] }));
    } catch (err) {
      // The reason helps the platform's developers; the token itself never goes into a message or a log line.
      const reason =
        err instanceof errors.JWTExpired
          ? "team token expired"
          : err instanceof errors.JWSSignatureVerificationFailed
            ? "team token signature does not verify"
            : "team token is malformed or not HS256";
      throw new AppError("unauthorized", reason);
    }
    const teamId = payload.team_id;
    if (typeof teamId !== "string" || !ID_PATTERN.test(teamId))
      throw new AppError("unauthorized", "team token has no valid team_id claim");
    return { teamId };
  };
}
