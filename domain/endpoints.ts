import type { Protocol } from "./challenge-shape.ts";
import type { InstanceEndpoint } from "./instances.ts";

/** What a player is given for an exposure: a URL for http, `tcp://host:port` for tcp. */
export const endpointAddress = (protocol: Protocol, host: string, port: number) =>
  `${protocol === "http" ? "http" : "tcp"}://${host}:${port}`;

/** One started exposure, as the engine reports it. */
export interface StartedExposure {
  container: string;
  port: number;
  protocol: Protocol;
  answersAt: { host: string; port: number };
  probeAt: { host: string; port: number };
}

/**
 * The row's record of where each exposure answers. The first http exposure is served under CHALLENGE_DOMAIN at the
 * instance's slug, the Nth at `<slug>-N`: names that come from the row alone, never from team ids.
 */
export function instanceEndpoints(slug: string, started: StartedExposure[]): InstanceEndpoint[] {
  let http = 0;
  return started.map((e) => ({
    container: e.container,
    port: e.port,
    protocol: e.protocol,
    host: e.answersAt.host,
    host_port: e.answersAt.port,
    upstream: `${e.probeAt.host}:${e.probeAt.port}`,
    route: e.protocol === "http" ? (++http === 1 ? slug : `${slug}-${http}`) : null,
  }));
}
