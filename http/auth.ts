import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "./errors.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Checks an `Authorization: Bearer` header against the configured tokens. Comparing fixed-length digests in
 * constant time, and always against every token, keeps the answer time independent of how much matched.
 */
export function createTokenCheck(tokens: readonly string[]): (header: string | undefined) => void {
  const digests = tokens.map(digest);
  return (header) => {
    // The scheme name is case-insensitive (RFC 7235): "bearer" is as good as "Bearer".
    const match = /^Bearer +([^\s]+)$/i.exec(header ?? "");
    if (!match)
      throw new AppError("unauthorized", "missing or malformed Authorization header (expected: Bearer <token>)");
    const presented = digest(match[1]!);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, presented) || ok;
    if (!ok) throw new AppError("unauthorized", "invalid token");
  };
}
