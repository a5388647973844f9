import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../shared/files.ts";

/** The run in progress, written before each step that changes something, so a restart can finish or undo it. */
const journalSchema = z.object({
  runId: z.string(),
  file: z.string(),
  sha256: z.string(),
  size: z.number(),
  startedAt: z.string(),
  phase: z.enum(["stopping", "restoring", "swapping", "swapped", "restarting"]),
  stopped: z.array(z.string()),
  maintenance: z.boolean(),
  newDatabase: z.string().optional(),
  oldDatabase: z.string().optional(),
  sqliteAside: z.string().optional(),
});
export type Journal = z.infer<typeof journalSchema>;

const stateSchema = z.object({
  processed: z.array(
    z.object({ file: z.string(), sha256: z.string(), size: z.number(), status: z.string(), at: z.string() }),
  ),
  current: journalSchema.nullable(),
});
export type RestoreState = z.infer<typeof stateSchema>;

export async function readState(path: string): Promise<RestoreState> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });
  if (text === null) return { processed: [], current: null };
  return stateSchema.parse(JSON.parse(text));
}

/** Atomic (temp file, fsync, rename): a crash leaves the previous state or the new one. */
export async function writeState(path: string, state: RestoreState): Promise<void> {
  state.processed = state.processed.slice(-500);
  // RESTORE_STATE_FILE may name a directory nobody created (a fresh volume): made here, before a run needs it.
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(state, null, 2) + "\n");
}
