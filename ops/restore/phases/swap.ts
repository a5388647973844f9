import { databaseExists, renameDatabase, swapDatabases } from "../database.ts";
import type { JournalFile } from "../journal.ts";
import { swapSqlite } from "../sqlite.ts";
import type { PhaseContext } from "./context.ts";
import type { Loaded } from "./load.ts";

/**
 * Puts the loaded data in place of the live data, every container being down. The journal says `swapping` (with
 * what a rollback needs) before, and `swapped` after: a crash in between is rolled back at the next start.
 */
export async function swap(ctx: PhaseContext, journal: JournalFile, loaded: Loaded): Promise<void> {
  if (loaded.mode === "in-place") return;
  if (loaded.mode === "sqlite") return swapFile(ctx, journal, loaded.staged);
  const c = ctx.config;
  const { fresh, old } = loaded;
  await journal.advance({ phase: "swapping", oldDatabase: old });
  const live = await databaseExists(c.RESTORE_DATABASE_URL, c.targetDatabase);
  await ctx.timeline.step(
    "swap",
    async () => {
      if (live) await swapDatabases(c.RESTORE_DATABASE_URL, c.targetDatabase, fresh, old);
      else await renameDatabase(c.RESTORE_DATABASE_URL, fresh, c.targetDatabase);
    },
    () => (live ? `${c.targetDatabase} kept as ${old}` : `${c.targetDatabase} created`),
  );
  await journal.advance({ phase: "swapped" });
}

async function swapFile(ctx: PhaseContext, journal: JournalFile, staged: string): Promise<void> {
  await journal.advance({ phase: "swapping" });
  const aside = await ctx.timeline.step(
    "swap sqlite",
    () => swapSqlite(staged, ctx.config.RESTORE_SQLITE_PATH!, ctx.runId.slice(0, 8)),
    (a) => a ?? "no previous file",
  );
  await journal.advance({ phase: "swapped", sqliteAside: aside ?? undefined });
}
