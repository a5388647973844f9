import { z } from "zod";
import { INSTANCE_STATES, type InstanceRow } from "../../domain/instances.ts";
import { renewableAt } from "../../domain/lifecycle/renewal.ts";

export const instanceViewSchema = z.object({
  instance_id: z.uuid(),
  team_id: z.string(),
  challenge_id: z.string(),
  state: z.enum(INSTANCE_STATES),
  container_address: z.string().nullable(),
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
});
export type InstanceView = z.infer<typeof instanceViewSchema>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** `renewWindowSeconds` tells when renewal opens (that long before expiry). */
export function instanceView(row: InstanceRow, renewWindowSeconds: number): InstanceView {
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
  };
}
