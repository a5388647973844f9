import type { InstanceLabels } from "../engine/engine.ts";

/** Reverse-DNS labels on every managed container: they tie Docker objects back to rows and requests. */
export const LABEL = {
  managed: "org.ctf-instancer.managed",
  deployment: "org.ctf-instancer.deployment",
  instanceId: "org.ctf-instancer.instance-id",
  teamId: "org.ctf-instancer.team-id",
  challengeId: "org.ctf-instancer.challenge-id",
  requestId: "org.ctf-instancer.request-id",
} as const;

/**
 * The name of an instance's container and of its network: deterministic, so a retried create finds the first one
 * instead of making a second.
 */
export const instanceObjectName = (deployment: string, instanceId: string) => `ctfi-${deployment}-${instanceId}`;

export function instanceLabels(l: InstanceLabels): Record<string, string> {
  return {
    [LABEL.managed]: "true",
    [LABEL.deployment]: l.deployment,
    [LABEL.instanceId]: l.instanceId,
    [LABEL.teamId]: l.teamId,
    [LABEL.challengeId]: l.challengeId,
    [LABEL.requestId]: l.requestId,
  };
}

/** Docker API filter for one instance's containers within one deployment. */
export function instanceFilter(deployment: string, instanceId: string): { label: string[] } {
  return { label: [`${LABEL.deployment}=${deployment}`, `${LABEL.instanceId}=${instanceId}`] };
}
