// What happens when a running instance's container dies.

export type AfterDeath = { action: "restart"; attempt: number } | { action: "fail" };

/** Restarted while the challenge asks for it and restarts remain (MAX_RESTARTS), else failed with the reason. */
export function afterDeath(
  challenge: { restart_on_exit: boolean } | null,
  restartsSoFar: number,
  maxRestarts: number,
): AfterDeath {
  if (challenge?.restart_on_exit && restartsSoFar < maxRestarts)
    return { action: "restart", attempt: restartsSoFar + 1 };
  return { action: "fail" };
}
