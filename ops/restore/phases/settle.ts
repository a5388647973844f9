import { mkdir, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../../shared/files.ts";
import { MANIFEST_SUFFIX } from "../../shared/manifest.ts";
import type { RestoreConfig } from "../config.ts";
import type { JournalFile } from "../journal.ts";
import type { RestoreResult } from "../result.ts";
import { RESULT_SUFFIX } from "../result.ts";

/**
 * Moves the file (and a manifest beside it) to processed/ or failed/, writes the result beside it, and closes the
 * journal with the file in the history. Shared by a run and by the recovery of one that died.
 */
export async function settle(
  c: RestoreConfig,
  journal: JournalFile,
  path: string,
  result: RestoreResult,
): Promise<void> {
  const dir = join(c.RESTORE_WATCH_DIR, result.status === "failed" ? "failed" : "processed");
  await mkdir(dir, { recursive: true });
  const dest = join(dir, `${result.startedAt.replace(/[-:]/g, "")}-${basename(path)}`);
  await rename(path, dest).catch(() => {});
  await rename(path + MANIFEST_SUFFIX, dest + MANIFEST_SUFFIX).catch(() => {});
  await rm(path + ".ready", { force: true });
  await writeFileAtomic(dest + RESULT_SUFFIX, JSON.stringify(result, null, 2) + "\n");
  const { sha256, size, status, finishedAt } = result;
  await journal.close({ file: basename(path), sha256, size, status, at: finishedAt });
}
