/** Values for a JSON schema of the OpenAPI document: valid ones, ones on its bounds, and ones that break it. */
export type Schema = {
  type?: string;
  enum?: unknown[];
  nullable?: boolean;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
};
export type Mode = "valid" | "boundary" | "invalid";

/** mulberry32: small, fast and the same sequence for the same seed on every machine. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Rng = ReturnType<typeof prng>;

const UUIDS = ["5b0f1b9e-0d7a-4c2e-9a59-1f1f2b6f3c11", "00000000-0000-4000-8000-000000000000"];
/** Strings worth trying anywhere: ordinary, edge, hostile. Each is used only where the schema allows it, or to break it. */
const STRINGS = [
  "a",
  "web100",
  "team1",
  "t-1_x",
  "0",
  "1",
  "50",
  "200",
  "201",
  "0x10",
  " 5",
  "1e2",
  "respond-async",
  "ctf-instancer/challenge-web:latest",
  "example/pwn:1",
  "CHOWN",
  "NET_BIND_SERVICE",
  "cap_kill",
  "SYS_ADMIN",
  "CTF{{}}",
  "flag{}",
  "running",
  "requested",
  "",
  " ",
  "é",
  "日本",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "a\udc00b",
  "\ud83d\ude00",
  "__proto__",
  "constructor",
  "../etc/passwd",
  "'; DROP TABLE instances; --",
  "%00",
  "a".repeat(64),
  "a".repeat(65),
  "x".repeat(4097),
  ...UUIDS,
];

function randomString(rng: Rng): string {
  const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/{}@ \u0000é";
  return Array.from({ length: rng.int(0, 20) }, () => chars[rng.int(0, chars.length - 1)]).join("");
}

function stringFits(s: Schema, v: string): boolean {
  if (s.minLength !== undefined && v.length < s.minLength) return false;
  if (s.maxLength !== undefined && v.length > s.maxLength) return false;
  if (s.pattern && !new RegExp(s.pattern, "u").test(v)) return false;
  if (s.format === "uuid" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return false;
  return true;
}

function genString(s: Schema, mode: Mode, rng: Rng, extra: readonly string[]): string {
  const pool = [...extra, ...STRINGS, randomString(rng), randomString(rng)];
  if (mode === "invalid") {
    const bad = pool.filter((v) => !stringFits(s, v));
    if (bad.length) return rng.pick(bad);
  }
  const fits = pool.filter((v) => stringFits(s, v));
  if (mode === "boundary") {
    const longest = s.maxLength !== undefined && "a".repeat(s.maxLength);
    if (longest && stringFits(s, longest) && rng.chance(0.5)) return longest;
    const shortest = s.minLength !== undefined && "a".repeat(s.minLength);
    if (shortest && stringFits(s, shortest)) return shortest;
  }
  return fits.length ? rng.pick(fits) : "a";
}

function genNumber(s: Schema, mode: Mode, rng: Rng): unknown {
  const lo = s.minimum ?? -1000;
  const hi = s.maximum ?? 1000;
  const integer = s.type === "integer";
  if (mode === "invalid")
    return rng.pick([lo - (integer ? 1 : lo / 10 || 0.0001), hi + 1, integer ? lo + 0.5 : "1", -1, 1e308, "NaN", null]);
  if (mode === "boundary") return rng.pick([lo, hi]);
  const v = lo + rng.next() * (hi - lo);
  return integer ? Math.round(v) : Math.round(v * 1000) / 1000;
}

/** A value for `s`. `extra` are strings known to matter to this API (ids it issued), tried first. */
export function gen(s: Schema, mode: Mode, rng: Rng, extra: readonly string[] = [], depth = 0): unknown {
  if (s.nullable && mode !== "invalid" && rng.chance(0.1)) return null;
  if (s.enum) return mode === "invalid" ? rng.pick(["bogus", 1, "", null]) : rng.pick(s.enum);
  switch (s.type) {
    case "string":
      return genString(s, mode, rng, extra);
    case "integer":
    case "number":
      return genNumber(s, mode, rng);
    case "boolean":
      return mode === "invalid" ? rng.pick(["true", 1, null]) : rng.chance(0.5);
    case "array": {
      if (mode === "invalid" && rng.chance(0.3)) return rng.pick(["x", {}, 1]);
      const max = Math.min(s.maxItems ?? 4, 4);
      const n = mode === "boundary" ? (s.maxItems ?? 3) : rng.int(s.minItems ?? 0, max);
      return Array.from({ length: n }, () => gen(s.items ?? {}, mode === "invalid" ? "invalid" : "valid", rng, extra));
    }
    case "object":
      return genObject(s, mode, rng, extra, depth);
    default:
      return rng.pick(["x", 1, true, null, {}]);
  }
}

function genObject(s: Schema, mode: Mode, rng: Rng, extra: readonly string[], depth: number): unknown {
  if (mode === "invalid" && rng.chance(0.15)) return rng.pick(["x", 1, [], null]);
  const out: Record<string, unknown> = {};
  const props = s.properties ?? {};
  for (const [name, ps] of Object.entries(props))
    if (s.required?.includes(name) || mode === "boundary" || rng.chance(0.5))
      out[name] = gen(ps, mode === "boundary" ? "boundary" : "valid", rng, extra, depth + 1);
  if (typeof s.additionalProperties === "object") {
    const keys = ["A", "MODE", "B_1", "_x", ...(mode === "invalid" ? ["1BAD", "a-b", "", "__proto__"] : [])];
    for (let i = rng.int(0, 3); i > 0; i--) {
      // defineProperty: an assignment to "__proto__" would set the prototype instead of a key JSON can carry.
      const value = gen(s.additionalProperties, mode, rng, extra, depth + 1);
      Object.defineProperty(out, rng.pick(keys), { value, enumerable: true, writable: true, configurable: true });
    }
  }
  if (mode !== "invalid") return out;
  const names = Object.keys(props);
  const how = rng.int(0, 2);
  if (how === 0 && names.length) {
    const name = rng.pick(names);
    out[name] = gen(props[name]!, "invalid", rng, extra, depth + 1);
  } else if (how === 1 && s.required?.length) delete out[rng.pick(s.required)];
  else if (s.additionalProperties === false || s.additionalProperties === undefined) out.unexpected = 1;
  return out;
}
