import { copyFile, chmod, chown, rename, stat, unlink } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";
import { fsyncDir, fsyncFile } from "../shared/files.ts";
import { VerificationError } from "../shared/verify.ts";

export function sqliteIntegrity(path: string): void {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
    const verdict = rows.map((r) => r.integrity_check).join("; ");
    if (verdict !== "ok") throw new VerificationError(`SQLite integrity_check: ${verdict}`);
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw new VerificationError(`not a readable SQLite database: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

const SIDECARS = ["", "-wal", "-shm"];

/**
 * Puts a verified SQLite file at `target` atomically: copied beside it (same filesystem), owner and mode of the
 * current file applied, the current file and its -wal/-shm moved aside, then one rename. Returns the aside prefix
 * (the rollback) or null when there was no current file.
 */
export async function swapSqlite(source: string, target: string, tag: string): Promise<string | null> {
  const tmp = join(dirname(target), `.${basename(target)}.restore-${tag}`);
  await copyFile(source, tmp);
  const current = await stat(target).catch(() => null);
  if (current) {
    await chown(tmp, current.uid, current.gid);
    await chmod(tmp, current.mode & 0o7777);
  }
  await fsyncFile(tmp);
  let aside: string | null = null;
  if (current) {
    aside = `${target}.pre-restore-${tag}`;
    // A -wal left by the old database must not be replayed into the new one: it goes aside with its database.
    for (const s of SIDECARS) await rename(target + s, aside + s).catch(() => {});
  }
  await rename(tmp, target);
  await fsyncDir(dirname(target));
  return aside;
}

/** Puts the aside copy (and its -wal/-shm) back in place. */
export async function rollbackSqlite(target: string, aside: string): Promise<void> {
  for (const s of SIDECARS) await unlink(target + s).catch(() => {});
  for (const s of SIDECARS) await rename(aside + s, target + s).catch(() => {});
  await fsyncDir(dirname(target));
}
