import { analyze, createDatabaseLike, databaseExists, dropDatabase, loadDump, sideName } from "../database.ts";
import type { JournalFile } from "../journal.ts";
import type { Validated } from "../file-checks.ts";
import type { PhaseContext } from "./context.ts";
import type { Stopping } from "./stop.ts";

/** What the swap phase has to put in place. */
export type Loaded =
  | { mode: "swap"; fresh: string; old: string }
  /** Loaded into the live database itself: nothing left to swap. */
  | { mode: "in-place" }
  /** The staged file is what goes in place. */
  | { mode: "sqlite"; staged: string };

/**
 * Loads the file where the swap will find it. In swap mode the load into a side database begins while the
 * containers are still stopping (it touches nothing they use); the other modes wait for them to be down. Ends
 * with every container down, or throws.
 */
export async function load(
  ctx: PhaseContext,
  journal: JournalFile,
  file: Validated,
  stopping: Stopping,
): Promise<Loaded> {
  if (file.kind === "sqlite") {
    await stopping.done;
    return { mode: "sqlite", staged: file.staged };
  }
  const dump = { kind: file.kind, path: file.staged };
  if (ctx.config.RESTORE_MODE === "in-place") {
    await stopping.done;
    await loadInPlace(ctx, dump);
    return { mode: "in-place" };
  }
  return loadBeside(ctx, journal, dump, stopping);
}

type Dump = { kind: "custom" | "plain"; path: string };

/** If the stop fails, the load is cut short, the side database dropped, and the stop's error is the run's error. */
async function loadBeside(ctx: PhaseContext, journal: JournalFile, dump: Dump, stopping: Stopping): Promise<Loaded> {
  const c = ctx.config;
  const { fresh, old } = await freeSideNames(c.RESTORE_DATABASE_URL, c.targetDatabase);
  await journal.advance({ phase: "restoring", newDatabase: fresh });
  const abort = new AbortController();
  stopping.done.catch(() => abort.abort());
  const loading = (async () => {
    await ctx.timeline.step(
      "create database",
      () => createDatabaseLike(c.RESTORE_DATABASE_URL, c.targetDatabase, fresh),
      () => fresh,
    );
    await ctx.timeline.step("restore", () =>
      loadDump({
        url: c.RESTORE_DATABASE_URL,
        database: fresh,
        ...dump,
        singleTransaction: false,
        clean: false,
        jobs: c.RESTORE_JOBS,
        pgRestoreBin: c.PG_RESTORE_BIN,
        psqlBin: c.PSQL_BIN,
        signal: abort.signal,
        log: ctx.log,
      }),
    );
  })();
  // Both settle before the run moves on, so nothing is still creating or loading the database a failure drops.
  const [stopped, loaded] = await Promise.allSettled([stopping.done, loading]);
  const failure = stopped.status === "rejected" ? stopped : loaded.status === "rejected" ? loaded : null;
  if (failure) {
    await dropDatabase(c.RESTORE_DATABASE_URL, fresh).catch(() => {});
    throw failure.reason;
  }
  return { mode: "swap", fresh, old };
}

/**
 * Side names carry the time to the second: a restore less than a second after the previous one (or after a run
 * that left its side database) moves on to the next free second rather than colliding with it.
 */
async function freeSideNames(url: string, target: string): Promise<{ fresh: string; old: string }> {
  const at = new Date();
  while (
    (await databaseExists(url, sideName(target, "restore", at))) ||
    (await databaseExists(url, sideName(target, "old", at)))
  )
    at.setSeconds(at.getSeconds() + 1);
  return { fresh: sideName(target, "restore", at), old: sideName(target, "old", at) };
}

/** One transaction into the live database: all or nothing, so a failure leaves it as it was. */
async function loadInPlace(ctx: PhaseContext, dump: Dump): Promise<void> {
  const c = ctx.config;
  await ctx.timeline.step("restore in place", () =>
    loadDump({
      url: c.RESTORE_DATABASE_URL,
      database: c.targetDatabase,
      ...dump,
      singleTransaction: true,
      clean: true,
      pgRestoreBin: c.PG_RESTORE_BIN,
      psqlBin: c.PSQL_BIN,
      log: ctx.log,
    }),
  );
  await ctx.timeline.step("analyze", () => analyze(c.RESTORE_DATABASE_URL, c.targetDatabase));
}
