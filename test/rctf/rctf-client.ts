// Requests shaped the way rCTF's `instancers/docker` provider sends them, and rCTF's two reply shapes written
// down here from the protocol (not imported from the code under test), so a reply outside them fails the test.
import { z } from "zod";

export const RCTF_TOKEN = "rctf-shared-token-0123456789abcdef";

const endpoint = z.strictObject({
  kind: z.enum(["http", "https", "tcp", "tcp-ssl", "raw"]),
  host: z.string(),
  port: z.int().min(0).max(65535),
  // May be absent, never null.
  title: z.string().optional(),
  text: z.string().optional(),
  bypassExpose: z.boolean().optional(),
});
export const detailsShape = z.strictObject({
  kind: z.literal("instancerInstanceDetails"),
  status: z.enum(["stopped", "starting", "running", "stopping", "errored"]),
  // Always present, possibly null.
  timeLeftMilliseconds: z.int().nullable(),
  endpoints: z.array(endpoint).nullable(),
});
export const errorShape = z.strictObject({ kind: z.literal("instancerError"), message: z.string().min(1) });
export type Details = z.infer<typeof detailsShape>;
export type Reply = Details | z.infer<typeof errorShape>;

/** Why a raw reply is not one of the two shapes, or null when it is. */
export function shapeProblem(status: number, text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `HTTP ${status}: not JSON: ${text.slice(0, 200)}`;
  }
  if (detailsShape.safeParse(body).success || errorShape.safeParse(body).success) return null;
  return `HTTP ${status}: neither shape: ${text.slice(0, 300)}`;
}

/** rCTF's compose-like `config` as it sends it: its provider's defaults all filled in. */
export function rctfConfig(image = "traefik/whoami:latest") {
  return {
    services: {
      app: {
        image,
        hostname: null,
        environment: { tiny: "instancer" },
        command: null,
        entrypoint: null,
        working_dir: null,
        user: null,
        networks: [],
        network_mode: "none",
        dns: [],
        dns_opt: [],
        dns_search: [],
        extra_hosts: [],
        expose: [],
        volumes: [],
        tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=65536k" },
        shm_size: null,
        healthcheck: null,
        read_only: true,
        privileged: false,
        security_opt: ["no-new-privileges"],
        cap_add: [],
        cap_drop: ["ALL"],
        mem_limit: "6m",
        cpus: 1,
        pids_limit: 64,
        ulimits: { nofile: { soft: 1024, hard: 1024 } },
        sysctls: {},
        labels: {},
        restart: "unless-stopped",
      },
    },
    networks: {},
    volumes: {},
  };
}

export interface Flag {
  provider: string;
  flag: string;
}

export interface TeamChallenge {
  teamId: string;
  challengeIntegrationId: string;
}

/** The bodies of the four calls, field for field as rCTF builds them. */
export const forms = {
  status: (who: TeamChallenge, token = RCTF_TOKEN) => ({
    kind: "instancerGetInstanceForm",
    rctfAuthToken: token,
    teamId: who.teamId,
    challengeIntegrationId: who.challengeIntegrationId,
    config: rctfConfig(),
  }),
  // rCTF spreads the challenge's instancerConfig (challengeIntegrationId, config, expose, timeoutMilliseconds, and
  // instancer/extendable when set), then adds the flags it minted for the team.
  start: (who: TeamChallenge, o: { flags?: Flag[]; timeoutMilliseconds?: number; token?: string } = {}) => ({
    kind: "instancerCreateInstanceForm",
    rctfAuthToken: o.token ?? RCTF_TOKEN,
    teamId: who.teamId,
    challengeIntegrationId: who.challengeIntegrationId,
    config: rctfConfig(),
    expose: [],
    timeoutMilliseconds: o.timeoutMilliseconds ?? 3_600_000,
    flags: o.flags ?? [],
  }),
  extend: (who: TeamChallenge, timeoutMilliseconds: number, token = RCTF_TOKEN) => ({
    kind: "instancerRenewInstanceForm",
    rctfAuthToken: token,
    teamId: who.teamId,
    challengeIntegrationId: who.challengeIntegrationId,
    timeoutMilliseconds,
    config: rctfConfig(),
  }),
  stop: (who: TeamChallenge, token = RCTF_TOKEN) => ({
    kind: "instancerDeleteInstanceForm",
    rctfAuthToken: token,
    teamId: who.teamId,
    challengeIntegrationId: who.challengeIntegrationId,
    config: rctfConfig(),
  }),
};

const METHOD = { status: "POST", start: "PUT", extend: "PATCH", stop: "DELETE" } as const;

/**
 * Talks to an instancer the way rCTF's provider does: `apiUrl` with one trailing `/` stripped, then
 * `/v1/instances/`; JSON body, no auth header; the reply read from the body whatever the status. Every reply is
 * checked against the two shapes; `problems` collects those that are not.
 */
export class RctfClient {
  readonly problems: string[] = [];
  readonly apiUrl: string;
  constructor(apiUrl: string) {
    this.apiUrl = apiUrl.replace(/\/$/, "");
  }

  async call(action: keyof typeof METHOD, body: unknown): Promise<{ status: number; reply: Reply }> {
    const res = await fetch(`${this.apiUrl}/v1/instances/`, {
      method: METHOD[action],
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const problem = shapeProblem(res.status, text);
    if (problem) {
      this.problems.push(`${METHOD[action]} ${action}: ${problem}`);
      throw new Error(problem);
    }
    return { status: res.status, reply: JSON.parse(text) as Reply };
  }

  /** A reply that must be instance details. */
  async details(action: keyof typeof METHOD, body: unknown): Promise<Details> {
    const { reply } = await this.call(action, body);
    if (reply.kind !== "instancerInstanceDetails") throw new Error(`expected details, got error: ${reply.message}`);
    return reply;
  }

  /** A reply that must be an error; returns its status and message. */
  async error(action: keyof typeof METHOD, body: unknown): Promise<{ status: number; message: string }> {
    const { status, reply } = await this.call(action, body);
    if (reply.kind !== "instancerError") throw new Error(`expected an error, got ${JSON.stringify(reply)}`);
    return { status, message: reply.message };
  }
}
