// How long an instance lives before it ends by itself.

/** The challenge's own TTL, else the deployment's default. */
export function ttlSeconds(challenge: { ttl_seconds: number | null } | null, defaultTtlSeconds: number): number {
  return challenge?.ttl_seconds ?? defaultTtlSeconds;
}
