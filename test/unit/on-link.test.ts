import { describe, expect, it } from "vitest";
import { isOnLink } from "../../worker/on-link.ts";

// A host with a default route, the Docker bridge 172.17.0.0/16, an instance network 10.213.0.64/26, and a route
// through a gateway to 10.9.0.0/16.
const TABLE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
br-1\t4000D50A\t00000000\t0001\t0\t0\t0\tC0FFFFFF\t0\t0\t0
eth0\t0000090A\t0A0200C0\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0
`;

describe("which container addresses the worker may ask directly", () => {
  it("those on a network attached to this host", () => {
    expect(isOnLink("172.17.0.5", TABLE)).toBe(true);
    expect(isOnLink("10.213.0.70", TABLE)).toBe(true);
  });

  it("never one that only the default route or a gateway reaches", () => {
    expect(isOnLink("10.213.0.130", TABLE)).toBe(false); // the next /26
    expect(isOnLink("10.9.1.1", TABLE)).toBe(false); // through a gateway
    expect(isOnLink("8.8.8.8", TABLE)).toBe(false);
    expect(isOnLink("10.214.0.2", "")).toBe(false); // no table at all
    expect(isOnLink("fd00::2", TABLE)).toBe(false);
  });

  it("this machine's own table answers for its own bridges", () => {
    expect(isOnLink("127.0.0.1")).toBe(false); // loopback is not in the table: the worker uses published ports
    expect(isOnLink("203.0.113.9")).toBe(false); // a documentation address: never on a link here
  });
});
