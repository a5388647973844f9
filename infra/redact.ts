// One rule for what a configuration summary may show, for every process (API, worker, backup, restore).

/**
 * A copy safe to log: the listed secrets replaced (a list by its length), passwords in URLs masked, and the path
 * of http(s) URLs too (healthchecks-style ping URLs carry their secret there); nothing else changed.
 */
export function redactConfig(cfg: object, secrets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) {
    if (secrets.includes(key)) out[key] = redactSecret(value);
    else if (typeof value === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) out[key] = redactUrl(value);
    else out[key] = value;
  }
  return out;
}

function redactSecret(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  return Array.isArray(value) ? `[${value.length} redacted]` : "[redacted]";
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "redacted";
    if (url.protocol.startsWith("http") && url.pathname.length > 1) url.pathname = "/[redacted]";
    url.search = "";
    return url.toString();
  } catch {
    return "[unparseable url]";
  }
}
