import { readFileSync } from "node:fs";

/** Linux's IPv4 routing table as text (`/proc/net/route`); empty where there is none. */
function readRouteTable(): string {
  try {
    return readFileSync("/proc/net/route", "utf8");
  } catch {
    return "";
  }
}

/** An IPv4 address as /proc/net/route writes it: the 32 bits in host (little-endian) order. */
function littleEndian(ip: string): number | null {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return (parts[0]! | (parts[1]! << 8) | (parts[2]! << 16) | (parts[3]! << 24)) >>> 0;
}

/**
 * Whether this host reaches `ip` on a network it is attached to: a route without gateway, more specific than the
 * default. Anything else would leave through a gateway, to whatever answers for that address out there, so the
 * worker only ever asks a container directly when its network is on this host.
 */
export function isOnLink(ip: string, table = readRouteTable()): boolean {
  const address = littleEndian(ip);
  if (address === null) return false;
  return table
    .split("\n")
    .slice(1)
    .some((line) => {
      const [, dest, gateway, flags, , , , mask] = line.trim().split(/\s+/);
      if (!dest || !mask) return false;
      const m = parseInt(mask, 16) >>> 0;
      const up = (parseInt(flags!, 16) & 1) === 1;
      return up && m !== 0 && parseInt(gateway!, 16) === 0 && (address & m) >>> 0 === parseInt(dest, 16) >>> 0;
    });
}
