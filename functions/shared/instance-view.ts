import { z } from "zod";
import { endpointAddress } from "../../domain/endpoints.ts";
import { INSTANCE_STATES, type InstanceEndpoint, type InstanceRow } from "../../domain/instances.ts";
import type { ApiConfig } from "../../infra/config.ts";
import { renewableAt } from "../../domain/lifecycle/renewal.ts";

const endpointViewSchema = z.object({
  container: z.string().describe("The container (by name) that serves it"),
  port: z.number().describe("Its port inside that container"),
  protocol: z.enum(["http", "tcp"]),
  address: z.string().describe("http://host:port, or tcp://host:port"),
  command: z.string().nullable().describe("For tcp: what a player pastes, `nc host port`"),
  url: z
    .string()
    .nullable()
    .describe("For http with CHALLENGE_DOMAIN: the instance's own web address through the gateway"),
});

export const instanceViewSchema = z.object({
  instance_id: z.uuid(),
  team_id: z.string(),
  challenge_id: z.string(),
  state: z.enum(INSTANCE_STATES),
  container_address: z.string().nullable().describe("The first exposure's address (see endpoints)"),
  host_port: z.number().nullable(),
  error: z.string().nullable(),
  request_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  removed_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  renewable_at: z.string().nullable(),
  renewals: z.number(),
  state_reason: z.string().nullable(),
  endpoints: z.array(endpointViewSchema).describe("Every exposure's address once running, else empty"),
});
export type InstanceView = z.infer<typeof instanceViewSchema>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The settings an instance's view depends on: when renewal opens, and where web addresses live. */
export type ViewSettings = Pick<ApiConfig, "RENEW_WINDOW_SECONDS" | "CHALLENGE_DOMAIN" | "CHALLENGE_URL_SCHEME">;

export function instanceView(row: InstanceRow, settings: ViewSettings): InstanceView {
  const renewWindowSeconds = settings.RENEW_WINDOW_SECONDS;
  return {
    instance_id: row.id,
    team_id: row.team_id,
    challenge_id: row.challenge_id,
    state: row.state,
    container_address: row.address,
    host_port: row.host_port,
    error: row.error,
    request_id: row.request_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    started_at: iso(row.started_at),
    removed_at: iso(row.removed_at),
    expires_at: iso(row.expires_at),
    renewable_at: row.expires_at ? renewableAt(row.expires_at, renewWindowSeconds).toISOString() : null,
    renewals: row.renewals,
    state_reason: row.state_reason,
    endpoints: row.state === "running" ? (row.endpoints ?? []).map((e) => endpointView(e, settings)) : [],
  };
}

function endpointView(e: InstanceEndpoint, settings: ViewSettings): z.infer<typeof endpointViewSchema> {
  const domain = settings.CHALLENGE_DOMAIN;
  return {
    container: e.container,
    port: e.port,
    protocol: e.protocol,
    address: endpointAddress(e.protocol, e.host, e.host_port),
    command: e.protocol === "tcp" ? `nc ${e.host} ${e.host_port}` : null,
    url: domain && e.route ? `${settings.CHALLENGE_URL_SCHEME}://${e.route}.${domain}` : null,
  };
}
