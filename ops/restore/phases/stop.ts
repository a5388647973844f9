import { stopContainers } from "../containers.ts";
import type { JournalFile } from "../journal.ts";
import { maintenanceOn } from "../maintenance.ts";
import type { RunIdentity } from "../result.ts";
import type { PhaseContext } from "./context.ts";

export interface Stopping {
  /** The stop in flight: the load may begin beside it, the swap and the start wait for it. */
  done: Promise<void>;
  /** When the first container began to go down: the start of the downtime. */
  since: number;
}

/**
 * Records the plan, raises the maintenance flag and asks every target to stop, all at once. The journal comes
 * first: only a plan that reached the disk lets a crash from here on be recovered, and if it could not be written
 * nothing was stopped.
 */
export async function stop(
  ctx: PhaseContext,
  journal: JournalFile,
  run: RunIdentity & { path: string },
  targets: string[],
): Promise<Stopping> {
  const c = ctx.config;
  const { runId, sha256, size, startedAt, path, file } = run;
  await journal.begin({
    runId,
    file: path,
    sha256,
    size,
    startedAt,
    phase: "stopping",
    stopped: targets,
    maintenance: true,
  });
  await maintenanceOn(c.RESTORE_MAINTENANCE_FLAG_FILE, `restore ${runId} of ${file}`);
  const since = Date.now();
  const done = ctx.timeline.step(
    "stop containers",
    () => stopContainers(ctx.docker, targets, c.RESTORE_STOP_TIMEOUT_SECONDS, ctx.log),
    () => targets.join(", "),
  );
  // Awaited by whoever needs the containers down; a failure is that phase's to report.
  done.catch(() => {});
  return { done, since };
}
