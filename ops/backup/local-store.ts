import { readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../infra/logger.ts";
import type { Manifest } from "../shared/manifest.ts";
import { MANIFEST_SUFFIX, PARTIAL_SUFFIX, parseArtefactName, parseManifest } from "../shared/manifest.ts";
import type { Candidate } from "./retention.ts";

export interface LocalArtefact extends Candidate {
  /** The database the backup is of (from its file name). */
  database: string;
  path: string;
  manifest: Manifest | null;
  sizeBytes: number;
}

/** Artefacts with this tool's names in `dir`; verified means a matching manifest of ours sits beside the file. */
export async function listLocal(dir: string): Promise<LocalArtefact[]> {
  const names = new Set(await readdir(dir));
  const out: LocalArtefact[] = [];
  for (const name of names) {
    const parsed = parseArtefactName(name);
    if (!parsed) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) continue;
    let manifest: Manifest | null = null;
    if (names.has(name + MANIFEST_SUFFIX)) {
      manifest = parseManifest(await readFile(path + MANIFEST_SUFFIX, "utf8").catch(() => ""));
      if (manifest && (manifest.file !== name || manifest.sizeBytes !== info.size)) manifest = null;
    }
    out.push({
      name,
      database: parsed.database,
      at: parsed.at,
      verified: manifest !== null,
      path,
      manifest,
      sizeBytes: info.size,
    });
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime());
}

/** The newest verified backup of `database` (a directory may hold several databases' backups). */
export async function newestVerified(dir: string, database: string): Promise<LocalArtefact | undefined> {
  return (await listLocal(dir)).find((a) => a.verified && a.database === database);
}

/**
 * Removes what an interrupted run left: `.partial` dumps, temporary manifests, and manifests of ours whose file
 * never got its final name. Only names this tool writes are considered.
 */
export async function sweepLocal(dir: string, log: Logger): Promise<string[]> {
  const names = new Set(await readdir(dir));
  const swept: string[] = [];
  for (const name of names) {
    const base = name.replace(/\.partial$/, "").replace(/\.manifest\.json(\.\d+\.\d+\.tmp)?$/, "");
    if (base === name || !parseArtefactName(base)) continue;
    const orphanManifest = name === base + MANIFEST_SUFFIX && !names.has(base);
    const leftover = name.endsWith(PARTIAL_SUFFIX) || name.endsWith(".tmp");
    if (!leftover && !orphanManifest) continue;
    if (orphanManifest && !parseManifest(await readFile(join(dir, name), "utf8").catch(() => ""))) continue;
    await unlink(join(dir, name)).catch(() => {});
    swept.push(name);
  }
  if (swept.length) log.warn({ swept }, "removed leftovers of an interrupted run");
  return swept;
}

export async function deleteLocal(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    // Manifest first: a file without manifest no longer counts as a backup, even if the second unlink fails.
    await unlink(join(dir, name + MANIFEST_SUFFIX)).catch(() => {});
    await unlink(join(dir, name));
  }
}
