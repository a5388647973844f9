import { MAIN_CONTAINER } from "../../domain/challenge-shape.ts";
import type { InstanceLabels } from "../engine/engine.ts";

/** Reverse-DNS labels on every managed container: they tie Docker objects back to rows and requests. */
export const LABEL = {
  managed: "org.ctf-instancer.managed",
  deployment: "org.ctf-instancer.deployment",
  instanceId: "org.ctf-instancer.instance-id",
  teamId: "org.ctf-instancer.team-id",
  challengeId: "org.ctf-instancer.challenge-id",
  requestId: "org.ctf-instancer.request-id",
  container: "org.ctf-instancer.container",
} as const;

/**
 * The name of an instance's container and of its network: deterministic, so a retried create finds the first one
 * instead of making a second.
 */
export const instanceObjectName = (deployment: string, instanceId: string) => `ctfi-${deployment}-${instanceId}`;

/**
 * The name of one container (or service) of an instance: the instance's own name for the single form's container,
 * so names stay what they were, and the instance's name with the container's for the others.
 */
export const containerObjectName = (deployment: string, instanceId: string, container: string) =>
  container === MAIN_CONTAINER
    ? instanceObjectName(deployment, instanceId)
    : `${instanceObjectName(deployment, instanceId)}-${container}`;

/** The instance's labels and the container's name within it. */
export const containerLabels = (l: InstanceLabels, container: string) => ({
  ...instanceLabels(l),
  [LABEL.container]: container,
});

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
