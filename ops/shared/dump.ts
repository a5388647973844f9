import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type { Logger } from "../../infra/logger.ts";
import type { DumpFormat, Manifest } from "./manifest.ts";
import { artefactName, MANIFEST_SUFFIX, PARTIAL_SUFFIX, TOOL_NAME, TOOL_VERSION } from "./manifest.ts";
import { describeExit, exited, tailCollector } from "./process.ts";
import { assertClientCanDump, databaseName, serverVersion, toolEnv, toolVersion } from "./postgres.ts";
import { fsyncDir, fsyncFile, sha256File, writeFileAtomic } from "./files.ts";
import { hashingTap, progressLogger, tailSink, teeTo } from "./streams.ts";
import { hasPlainTrailer, listArchive, VerificationError } from "./verify.ts";

export interface DumpRequest {
  databaseUrl: string;
  dir: string;
  format: DumpFormat;
  /** pg_dump's --compress: custom 0-9, or method[:level] on newer clients; plain: a gzip level 1-9 */
  compression: string;
  pgDumpBin: string;
  pgRestoreBin: string;
  kind: Manifest["kind"];
  runId: string;
  log: Logger;
  /** The previous verified backup's size and the smallest fraction of it a new dump may have. */
  previousSizeBytes?: number;
  minSizeRatio?: number;
  progressIntervalMs?: number;
  /** pg_dump gives up (and the run fails) when a table lock is not granted within this, e.g. during a migration. */
  lockWaitTimeoutSeconds?: number;
  /** Aborting kills pg_dump; the partial file is removed as for any failure. */
  signal?: AbortSignal;
}

export interface Artefact {
  path: string;
  manifestPath: string;
  manifest: Manifest;
}

/**
 * pg_dump → (gzip) → sha256 → `.partial` file, verified while streaming and again from disk, then the manifest and
 * an atomic rename. Any failure removes what was written: a file with a final name is always a verified backup.
 */
export async function dumpToArtefact(req: DumpRequest): Promise<Artefact> {
  const startedAt = new Date();
  const [server, client] = await Promise.all([serverVersion(req.databaseUrl), toolVersion(req.pgDumpBin)]);
  assertClientCanDump(server, client, req.pgDumpBin);

  const name = artefactName(databaseName(req.databaseUrl), startedAt, req.format);
  const path = join(req.dir, name);
  const partial = path + PARTIAL_SUFFIX;
  const manifestPath = path + MANIFEST_SUFFIX;
  const log = req.log.child({ file: name });
  try {
    const streamed = await streamDump(req, partial, log);
    const verification = [...streamed.checks];
    // The disk holds exactly the bytes checked while streaming (decoded by pg_restore, or with pg_dump's trailer
    // before our own gzip): a matching sha256 re-read proves it, with no second decode of the whole dump.
    const onDisk = await sha256File(partial);
    if (onDisk.sha256 !== streamed.sha256 || onDisk.size !== streamed.size)
      throw new VerificationError("the file on disk differs from the bytes pg_dump produced");
    verification.push("sha256 re-read from disk");
    if (req.format === "custom") {
      const { entries } = await listArchive(req.pgRestoreBin, partial);
      verification.push(`pg_restore --list: ${entries.length} entries`);
    }
    checkSize(streamed.size, req);
    req.signal?.throwIfAborted();
    if (req.previousSizeBytes) verification.push(`size sanity against previous ${req.previousSizeBytes} bytes`);

    const manifest: Manifest = {
      tool: TOOL_NAME,
      toolVersion: TOOL_VERSION,
      kind: req.kind,
      runId: req.runId,
      database: databaseName(req.databaseUrl),
      format: req.format,
      compression: req.compression,
      file: name,
      sizeBytes: streamed.size,
      sha256: streamed.sha256,
      serverVersion: server,
      clientVersion: client,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      verified: true,
      verification,
    };
    // Manifest first: a manifest without its file is ignored and swept, a file without manifest is never counted.
    await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
    await rename(partial, path);
    await fsyncDir(req.dir);
    return { path, manifestPath, manifest };
  } catch (err) {
    await unlink(partial).catch(() => {});
    await unlink(manifestPath).catch(() => {});
    throw err;
  }
}

function checkSize(size: number, req: DumpRequest): void {
  const ratio = req.minSizeRatio ?? 0;
  if (req.previousSizeBytes && ratio > 0 && size < req.previousSizeBytes * ratio)
    throw new VerificationError(
      `the dump is ${size} bytes, less than ${Math.round(ratio * 100)}% of the previous backup ` +
        `(${req.previousSizeBytes} bytes): refusing to count it as a backup`,
    );
}

function dumpArgs(req: DumpRequest): string[] {
  // The database comes from PGDATABASE (toolEnv); credentials never appear on the command line.
  const lockWait = req.lockWaitTimeoutSeconds ? [`--lock-wait-timeout=${req.lockWaitTimeoutSeconds}s`] : [];
  // Both formats compress inside pg_dump (plain: one gzip stream), so no uncompressed byte passes through Node.
  return [`--format=${req.format}`, `--compress=${req.compression}`, ...lockWait];
}

/** pg_restore reading a whole custom archive from stdin into /dev/null: a full decode of every data block. */
function startArchiveReader(pgRestoreBin: string) {
  const child = spawn(pgRestoreBin, ["--file=/dev/null"], { stdio: ["pipe", "ignore", "pipe"] });
  const stderr = tailCollector();
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  return { child, exit: exited(child), stderr: () => stderr.text };
}

function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

async function streamDump(req: DumpRequest, partial: string, log: Logger) {
  req.signal?.throwIfAborted();
  const dump = spawn(req.pgDumpBin, dumpArgs(req), {
    env: toolEnv(req.databaseUrl),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stopDump = () => killIfRunning(dump);
  req.signal?.addEventListener("abort", stopDump, { once: true });
  const dumpErr = tailCollector();
  dump.stderr.on("data", (c: Buffer) => dumpErr.push(c));
  const dumpExit = exited(dump);
  // custom: pg_restore decodes the whole archive as it streams, so a truncated or corrupt archive fails here at
  // no extra wall time; plain: a side gunzip decodes the stream as it is written and keeps the text's end, where
  // the completion trailer must be (a stream cut short fails to decode).
  const reader = req.format === "custom" ? startArchiveReader(req.pgRestoreBin) : null;
  const trailer = req.format === "plain" ? tailSink() : null;
  const gunzip = trailer ? createGunzip() : null;
  const decoded =
    gunzip && trailer
      ? pipeline(gunzip, trailer.stream).then(
          () => true,
          () => false,
        )
      : null;
  const tap = hashingTap();
  const progress = progressLogger(log, req.progressIntervalMs ?? 10_000, tap.bytes);
  try {
    const stages: (Readable | Writable | Transform)[] = [dump.stdout, tap.stream];
    if (reader) stages.push(teeTo(reader.child.stdin, { sideMayClose: true }));
    if (gunzip) stages.push(teeTo(gunzip, { sideMayClose: true }));
    stages.push(createWriteStream(partial, { flags: "wx", mode: 0o640, highWaterMark: 1 << 20 }));
    await pipeline(stages);
    const dumped = await dumpExit;
    req.signal?.throwIfAborted();
    if (dumped.code !== 0) throw new Error(describeDumpExit(req, dumped, dumpErr.text));
    const checks = ["pg_dump exited 0"];
    if (reader) {
      await failIfExitedNonZero(reader);
      checks.push("whole archive decoded by pg_restore while streaming");
    }
    if (trailer) {
      if (!(await decoded) || !hasPlainTrailer(trailer.tail()))
        throw new VerificationError("pg_dump's output lacks its completion trailer (or its gzip stream is cut short)");
      checks.push("whole gzip stream decoded while streaming, completion trailer");
    }
    await fsyncFile(partial);
    log.info({ bytes: tap.bytes(), mbPerSecond: progress.rate() }, "dump written and synced");
    return { ...tap.digest(), checks };
  } catch (err) {
    req.signal?.throwIfAborted();
    if (dump.exitCode !== null || dump.signalCode !== null) {
      const dumped = await dumpExit;
      if (dumped.code !== 0) throw new Error(describeDumpExit(req, dumped, dumpErr.text), { cause: err });
    }
    throw err;
  } finally {
    req.signal?.removeEventListener("abort", stopDump);
    progress.stop();
    gunzip?.destroy();
    killIfRunning(dump);
    if (reader) killIfRunning(reader.child);
  }
}

/** pg_dump's failure; one that gave up waiting for a table lock says so first, with the limit it hit. */
function describeDumpExit(req: DumpRequest, r: Parameters<typeof describeExit>[1], stderr: string): string {
  const message = describeExit("pg_dump", r, stderr);
  if (req.lockWaitTimeoutSeconds && /statement timeout[\s\S]*LOCK TABLE|lock timeout/.test(stderr))
    return `a table lock was not granted within ${req.lockWaitTimeoutSeconds} s (held by another session, e.g. a migration): ${message}`;
  return message;
}

async function failIfExitedNonZero(reader: ReturnType<typeof startArchiveReader>): Promise<void> {
  const r = await reader.exit;
  if (r.code !== 0) throw new VerificationError(describeExit("pg_restore (stream check)", r, reader.stderr()));
}
