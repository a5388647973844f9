// How long a row may wait in a transient state before the sweeper enqueues its job again (a job lost with Redis,
// a worker that crashed mid-start). Re-enqueueing a job still pending is a no-op, so these only bound the delay.

export interface RecoveryTimings {
  startTimeoutSeconds: number;
  jobLockSeconds: number;
}

export interface StaleAfter {
  requestedMs: number;
  startingMs: number;
  stoppingMs: number;
}

export function staleAfter(timings: RecoveryTimings): StaleAfter {
  return {
    requestedMs: 5_000,
    // Longer than a start can take plus the time a crashed worker's job needs to be found stalled.
    startingMs: (timings.startTimeoutSeconds + 2 * timings.jobLockSeconds + 5) * 1000,
    stoppingMs: 15_000,
  };
}
