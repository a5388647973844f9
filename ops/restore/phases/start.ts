import { restartContainers } from "../containers.ts";
import { analyze } from "../database.ts";
import type { JournalFile } from "../journal.ts";
import { maintenanceOff } from "../maintenance.ts";
import type { PhaseContext } from "./context.ts";
import type { Stopping } from "./stop.ts";

/**
 * Runs after the stop phase, whatever failed in it or after it. After a swap, ANALYZE of the restored database runs
 * while the services start (it needs nothing from them; a failure there is only logged: autovacuum gathers the
 * statistics later). Returns the containers that did not come back and the downtime.
 */
export async function start(
  ctx: PhaseContext,
  journal: JournalFile,
  stopping: Stopping | undefined,
): Promise<{ notBack: string[]; downtimeMs?: number }> {
  const c = ctx.config;
  await stopping?.done.catch(() => {}); // never start a container while its stop is still under way
  const planned = journal.current;
  // Only a plan that reached the journal stopped anything: without one there is nothing to start.
  if (!planned) return { notBack: [] };
  // The restart must happen even when the journal cannot be written.
  await journal
    .advance({ phase: "restarting" })
    .catch((err: Error) => ctx.log.error({ err: err.message }, "journal not written"));
  const analyzing =
    planned.phase === "swapped" && planned.newDatabase
      ? ctx.timeline
          .step("analyze", () => analyze(c.RESTORE_DATABASE_URL, c.targetDatabase))
          .catch((err: Error) =>
            ctx.log.warn({ err: err.message }, "ANALYZE failed: autovacuum will gather the statistics"),
          )
      : undefined;
  const notBack = await startAgain(ctx, planned.stopped);
  const downtimeMs = stopping && Date.now() - stopping.since;
  await analyzing;
  return { notBack, downtimeMs };
}

/**
 * Starts what a run stopped, and RESTORE_START_CONTAINERS, as one timed step, then lowers the maintenance flag.
 * Shared by a run and by the recovery of one that died. Returns the containers that did not come back.
 */
export async function startAgain(ctx: PhaseContext, stopped: string[]): Promise<string[]> {
  const c = ctx.config;
  const began = Date.now();
  const notBack = await restartContainers(
    ctx.docker,
    stopped,
    c.RESTORE_START_CONTAINERS,
    c.RESTORE_START_TIMEOUT_SECONDS * 1000,
    ctx.log,
  );
  ctx.timeline.note({
    name: "restart containers",
    ms: Date.now() - began,
    ok: notBack.length === 0,
    detail: notBack.join("; ") || [...new Set([...stopped, ...c.RESTORE_START_CONTAINERS])].join(", "),
  });
  await maintenanceOff(c.RESTORE_MAINTENANCE_FLAG_FILE);
  return notBack;
}
