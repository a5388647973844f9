import { createReadStream, createWriteStream } from "node:fs";
import { copyFile } from "node:fs/promises";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { VerificationError } from "../shared/verify.ts";
import type { Detected } from "./detect.ts";

export interface Staged {
  /** The file to load: the dropped file itself, or its decompressed copy (or SQLite's copy) in the work directory. */
  path: string;
  /** Plain SQL only: the start of the text (pg_dump's version line) and its end (the completion trailer). */
  text?: { head: string; tail: string };
}

/**
 * Brings the dropped file to where it is loaded from, reading it at most once: a gzipped file is decompressed into
 * the work directory (a full decompress test), and plain SQL keeps the two ends of its text on the way through.
 * SQLite is always a copy: opening a WAL-mode file makes -wal and -shm beside it, even read-only, and in incoming/
 * the watcher would take them for new dumps.
 */
export async function stageFile(path: string, workPath: string, detected: Detected): Promise<Staged> {
  const plain = detected.kind === "plain";
  if (!detected.gzipped && !plain) {
    if (detected.kind === "custom") return { path };
    await copyFile(path, workPath);
    return { path: workPath };
  }
  const ends = textEnds();
  const out = detected.gzipped ? createWriteStream(workPath, { mode: 0o600 }) : discard();
  const stages = detected.gzipped ? [createGunzip(), ends.stream] : [ends.stream];
  try {
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), ...(stages as [Transform]), out);
  } catch (err) {
    const what = detected.gzipped ? "decompress test failed" : `cannot read ${path}`;
    throw new VerificationError(`${what}: ${(err as Error).message}`);
  }
  return { path: detected.gzipped ? workPath : path, text: plain ? ends.text() : undefined };
}

/** Passes bytes through, keeping the first `headBytes` and the last `tailBytes`. */
function textEnds(headBytes = 8192, tailBytes = 4096) {
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (head.length < headBytes) head = Buffer.concat([head, chunk.subarray(0, headBytes - head.length)]);
      tail = Buffer.concat([tail, chunk]).subarray(-tailBytes);
      cb(null, chunk);
    },
  });
  return { stream, text: () => ({ head: head.toString("utf8"), tail: tail.toString("utf8") }) };
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
