import { mkdir } from "node:fs/promises";
import { dumpToArtefact } from "../../shared/dump.ts";
import { readArchiveData } from "../../shared/verify.ts";
import { databaseExists, dropExpiredOld } from "../database.ts";
import type { Validated } from "../file-checks.ts";
import type { PhaseContext } from "./context.ts";

/**
 * A custom archive's data read in full (a file cut short fails here, not half-way through the load). The last check,
 * kept apart from validation so that it can run beside the pre-restore backup.
 */
export async function readData(ctx: PhaseContext, file: Validated): Promise<void> {
  if (file.kind !== "custom") return;
  await ctx.timeline.step("read data", () => readArchiveData(ctx.config.PG_RESTORE_BIN, file.staged));
}

/**
 * The last check of the file beside a backup of the live database (replaced databases past their keep time are
 * dropped first). Both end before anything stops, whichever fails: nothing of them outlives this phase.
 */
export async function backUp(ctx: PhaseContext, file: Validated): Promise<void> {
  const [read, backedUp] = await Promise.allSettled([
    readData(ctx, file),
    file.kind === "sqlite" ? Promise.resolve() : backUpLive(ctx),
  ]);
  if (read.status === "rejected") throw read.reason;
  if (backedUp.status === "rejected") throw backedUp.reason;
}

async function backUpLive(ctx: PhaseContext): Promise<void> {
  const c = ctx.config;
  await dropExpiredOld(c.RESTORE_DATABASE_URL, c.targetDatabase, c.RESTORE_KEEP_OLD_HOURS, ctx.log);
  if (!c.RESTORE_PRE_BACKUP || !(await databaseExists(c.RESTORE_DATABASE_URL, c.targetDatabase))) return;
  await ctx.timeline.step(
    "pre-restore backup",
    async () => {
      await mkdir(c.RESTORE_PRE_BACKUP_DIR, { recursive: true });
      const artefact = await dumpToArtefact({
        databaseUrl: c.RESTORE_DATABASE_URL,
        dir: c.RESTORE_PRE_BACKUP_DIR,
        format: "custom",
        // A safety copy taken while the file waits to be restored: fast (level 1) over small.
        compression: "1",
        pgDumpBin: c.PG_DUMP_BIN,
        pgRestoreBin: c.PG_RESTORE_BIN,
        kind: "pre-restore",
        runId: ctx.runId,
        log: ctx.log,
      });
      return artefact.path;
    },
    (p) => p,
  );
}
