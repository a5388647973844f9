// What happens when a running instance's workload dies.

export type AfterDeath = { action: "restart"; attempt: number } | { action: "fail" };

/**
 * Restarted while restarts remain (MAX_RESTARTS) and either the challenge asks for it or the workload did not fail
 * itself (`movable`: its node was lost or drained, so it starts again elsewhere); else failed with the reason.
 */
export function afterDeath(
  challenge: { restart_on_exit: boolean } | null,
  restartsSoFar: number,
  maxRestarts: number,
  movable = false,
): AfterDeath {
  if (challenge && (challenge.restart_on_exit || movable) && restartsSoFar < maxRestarts)
    return { action: "restart", attempt: restartsSoFar + 1 };
  return { action: "fail" };
}

const MOVING = "moving: ";

/** The state_reason of an instance started again elsewhere because its node went away. */
export const movingReason = (reason: string) => `${MOVING}${reason}`;

/** Why an instance is being moved (its node's loss or drain), or null when it is not. */
export const moveCause = (stateReason: string | null) =>
  stateReason?.startsWith(MOVING) ? stateReason.slice(MOVING.length) : null;
