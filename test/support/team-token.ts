import { SignJWT } from "jose";

/** The key the test stacks sign team tokens with (TEAM_TOKEN_SECRET). */
export const TEAM_TOKEN_SECRET = "team-token-secret-0123456789abcdef0123";

/** A team token as a CTF platform makes it: HS256 over `{team_id, exp}`. */
export async function teamToken(
  teamId: string,
  opts: { secret?: string; expiresInSeconds?: number; alg?: "HS256" | "HS512" } = {},
): Promise<string> {
  return new SignJWT({ team_id: teamId })
    .setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expiresInSeconds ?? 600))
    .sign(new TextEncoder().encode(opts.secret ?? TEAM_TOKEN_SECRET));
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An unsigned token (`alg: none`), which must never be accepted. */
export const unsignedToken = (teamId: string) =>
  `${b64({ alg: "none", typ: "JWT" })}.${b64({ team_id: teamId, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
