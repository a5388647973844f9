import { readFile } from "node:fs/promises";
import { MANIFEST_SUFFIX, parseManifest } from "../shared/manifest.ts";
import type { PgVersion } from "../shared/postgres.ts";
import { majorOf, majorText, serverVersion } from "../shared/postgres.ts";
import { hasPlainTrailer, listArchive, VerificationError } from "../shared/verify.ts";
import type { Detected } from "./detect.ts";
import { detectKind } from "./detect.ts";
import { sqliteIntegrity } from "./sqlite.ts";
import { stageFile } from "./stage.ts";

export interface Validated extends Detected {
  /** The file to load: the dropped file itself, or its copy in the work directory (stage.ts). */
  staged: string;
  checks: string[];
  dumpVersion?: string;
}

/** "; Dumped from database version: 15.18" (custom list) or "-- Dumped from database version 15.18" (plain). */
export function dumpedFromVersion(text: string): string | undefined {
  return /Dumped from database version:? (\d+(?:\.\d+)*)/.exec(text)?.[1];
}

function versionNum(text: string): number {
  const [a = 0, b = 0, c = 0] = text.split(".").map(Number);
  return a >= 10 ? a * 10_000 + b : a * 10_000 + b * 100 + c;
}

/**
 * Every check that can be made without stopping anything: manifest and checksum (ops/backup files), a full
 * decompress, the archive's table of contents (or the plain trailer), SQLite's integrity check, and the version gate.
 * A custom archive's data is read in full by the run, beside the pre-restore backup (readArchiveData).
 */
export async function validateFile(opts: {
  path: string;
  sha256: string;
  size: number;
  workPath: string;
  databaseUrl: string;
  pgRestoreBin: string;
  sqliteEnabled: boolean;
}): Promise<Validated> {
  const checks: string[] = [];
  const manifestText = await readFile(opts.path + MANIFEST_SUFFIX, "utf8").catch(() => null);
  if (manifestText !== null) {
    const manifest = parseManifest(manifestText);
    if (!manifest) throw new VerificationError("the manifest beside the file is not an ops/backup manifest");
    if (manifest.sha256 !== opts.sha256 || manifest.sizeBytes !== opts.size)
      throw new VerificationError(
        `checksum mismatch: manifest says ${manifest.sizeBytes} bytes sha256 ${manifest.sha256}, ` +
          `the file has ${opts.size} bytes sha256 ${opts.sha256}`,
      );
    checks.push("manifest sha256 and size match");
  }
  const detected = await detectKind(opts.path);
  if (detected.kind === "sqlite" && !opts.sqliteEnabled)
    throw new VerificationError("a SQLite database, but RESTORE_SQLITE_PATH is not set");
  const { path: staged, text } = await stageFile(opts.path, opts.workPath, detected);
  if (detected.gzipped) checks.push("full gzip decompress");
  if (detected.kind === "sqlite") {
    sqliteIntegrity(staged);
    checks.push("SQLite integrity_check ok");
    return { ...detected, staged, checks };
  }
  let header: string;
  if (text) {
    if (!hasPlainTrailer(text.tail))
      throw new VerificationError("plain SQL without pg_dump's completion trailer (truncated?)");
    header = text.head;
    checks.push("plain SQL completion trailer");
  } else {
    const listing = await listArchive(opts.pgRestoreBin, staged);
    header = listing.header;
    checks.push(`pg_restore --list: ${listing.entries.length} entries`);
  }
  const dumpVersion = dumpedFromVersion(header);
  const server: PgVersion = await serverVersion(opts.databaseUrl);
  if (dumpVersion && majorOf(versionNum(dumpVersion)) > majorOf(server.num))
    throw new VerificationError(
      `the dump comes from PostgreSQL ${dumpVersion}, newer than the server's ${majorText(server.num)} (${server.text})`,
    );
  checks.push(`version gate: dump ${dumpVersion ?? "unknown"} into server ${server.text}`);
  return { ...detected, staged, checks, dumpVersion };
}
