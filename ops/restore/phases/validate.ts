import { runningTargets } from "../containers.ts";
import type { Validated } from "../file-checks.ts";
import { validateFile } from "../file-checks.ts";
import type { PhaseContext } from "./context.ts";

export interface Plan {
  file: Validated;
  /** The running containers the restore will stop. */
  targets: string[];
}

/** Every check that needs nothing stopped, and the containers a restore would stop. Changes nothing. */
export async function validate(
  ctx: PhaseContext,
  dropped: { path: string; sha256: string; size: number; workPath: string },
): Promise<Plan> {
  const c = ctx.config;
  const file = await ctx.timeline.step(
    "validate",
    () =>
      validateFile({
        ...dropped,
        databaseUrl: c.RESTORE_DATABASE_URL,
        pgRestoreBin: c.PG_RESTORE_BIN,
        sqliteEnabled: c.RESTORE_SQLITE_PATH !== undefined,
      }),
    (v) => v.checks.join("; "),
  );
  const targets = await runningTargets(ctx.docker, {
    names: c.RESTORE_STOP_CONTAINERS,
    label: c.RESTORE_STOP_LABEL,
    composeProject: c.RESTORE_COMPOSE_PROJECT,
  });
  return { file, targets };
}
