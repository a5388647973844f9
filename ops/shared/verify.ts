import { open } from "node:fs/promises";
import { constants, gunzipSync } from "node:zlib";
import { describeExit, runTool } from "./process.ts";

/** The last line pg_dump writes into a plain-format dump that ran to completion. */
export const PLAIN_TRAILER = "-- PostgreSQL database dump complete";

/** A file that cannot be what it claims to be; nothing has been changed because of it. */
export class VerificationError extends Error {
  override name = "VerificationError";
}

export interface ArchiveListing {
  /** The leading `;` comment block: creation time, database, "Dumped from database version", TOC size. */
  header: string;
  entries: string[];
}

/**
 * Reads the archive's table of contents; a custom-format file pg_restore cannot list is not a backup. The header is
 * taken from the start of the output (the version line is at the top, however many entries follow).
 */
export async function listArchive(pgRestoreBin: string, path: string): Promise<ArchiveListing> {
  const r = await runTool(pgRestoreBin, ["--list", path], { maxStdout: 256 << 20 });
  if (r.code !== 0) throw new VerificationError(describeExit("pg_restore --list", r, r.stderr));
  const lines = r.stdout.split("\n");
  const firstEntry = lines.findIndex((l) => l.trim() !== "" && !l.startsWith(";"));
  const header = lines.slice(0, firstEntry < 0 ? lines.length : firstEntry).join("\n");
  // An empty database has no entries, but every readable archive has the header block. Output beyond the
  // collector's bound would have lost it: refused rather than read without its version line.
  if (!/^; Archive created at /m.test(header))
    throw new VerificationError("pg_restore --list printed no archive header");
  return { header, entries: lines.filter((l) => l.trim() && !l.startsWith(";")) };
}

/**
 * Reads every data block of a custom-format archive (pg_restore to /dev/null): a file cut short after its table of
 * contents lists fine but fails here, before anything is stopped.
 */
export async function readArchiveData(pgRestoreBin: string, path: string): Promise<void> {
  const r = await runTool(pgRestoreBin, ["--file=/dev/null", path]);
  if (r.code !== 0) throw new VerificationError(describeExit("pg_restore (full read)", r, r.stderr));
}

/**
 * The start of a gzipped plain dump's text, from its first 4 KB: the comment block naming the versions is its first
 * few hundred bytes, and a small slice bounds what the decode can yield.
 */
export async function readPlainHead(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
    // The stream goes on past this slice: decode what it holds instead of failing at its end.
    const text = gunzipSync(buffer.subarray(0, bytesRead), { finishFlush: constants.Z_SYNC_FLUSH });
    return text.subarray(0, 4096).toString("utf8");
  } catch (err) {
    throw new VerificationError(`the start of the gzip stream does not decode: ${(err as Error).message}`);
  } finally {
    await fh.close();
  }
}

/** The trailer, followed only by comment lines or psql's `\unrestrict` (pg_dump 13.22/14.19/15.14/16.10/17.6+). */
export function hasPlainTrailer(tail: string): boolean {
  const lines = tail.split("\n").map((l) => l.trim());
  const at = lines.lastIndexOf(PLAIN_TRAILER);
  return at >= 0 && lines.slice(at + 1).every((l) => l === "" || l.startsWith("--") || l.startsWith("\\unrestrict "));
}
