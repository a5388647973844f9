import type { Journal } from "./state.ts";
import { readState, writeState } from "./state.ts";

export type JournalFile = ReturnType<typeof openJournal>;

/**
 * A run's journal, held in memory and written through to the state file before each step that changes something,
 * so a crash can be finished or undone at the next start. The state file is read once, at the first write: every
 * writer holds the ops lock, so nothing else changes it meanwhile.
 */
export function openJournal(stateFile: string) {
  let state: Awaited<ReturnType<typeof readState>> | undefined;
  let current: Journal | null = null;
  const load = async () => (state ??= await readState(stateFile));
  return {
    /** What the run has recorded; null until the first record reached the disk (nothing was stopped before it). */
    get current(): Journal | null {
      return current;
    },
    /** The journal a run that died left behind, if any (recovery). */
    async interrupted(): Promise<Journal | null> {
      return (await load()).current;
    },
    /** The first record: held only once written, since a run whose plan never reached the disk stopped nothing. */
    async begin(journal: Journal): Promise<void> {
      await writeState(stateFile, { ...(await load()), current: journal });
      current = journal;
    },
    /** Held first, then written: the run's own clean-up knows what it did even if the disk refused the record. */
    async advance(changes: Partial<Journal>): Promise<void> {
      if (!current) throw new Error("the journal was never begun");
      current = { ...current, ...changes };
      await writeState(stateFile, { ...(await load()), current });
    },
    /** The run is over: its file goes into the history and the journal is closed. */
    async close(entry: { file: string; sha256: string; size: number; status: string; at: string }): Promise<void> {
      const s = await load();
      s.processed.push(entry);
      s.current = null;
      current = null;
      await writeState(stateFile, s);
    },
  };
}
