import { open } from "node:fs/promises";
import { gunzipSync } from "node:zlib";

export type DumpKind = "custom" | "plain" | "sqlite";

export interface Detected {
  kind: DumpKind;
  gzipped: boolean;
}

/** Not a dump this service can restore; nothing was touched because of it. */
export class UnsupportedFileError extends Error {
  override name = "UnsupportedFileError";
}

const SQLITE_MAGIC = "SQLite format 3\0";

async function head(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function classify(buf: Buffer): DumpKind | null {
  if (buf.subarray(0, 5).toString("latin1") === "PGDMP") return "custom";
  if (buf.subarray(0, 16).toString("latin1") === SQLITE_MAGIC) return "sqlite";
  const text = buf.toString("utf8");
  // pg_dump's plain header, or SQL statements at the start of a hand-made file.
  if (/^(--|\\restrict|SET |CREATE |BEGIN|INSERT |COPY |SELECT )/m.test(text.slice(0, 4096)) && !text.includes("\0"))
    return "plain";
  return null;
}

/** Identifies a file by its bytes, never its name: gzip is looked through, then custom/plain/SQLite. */
export async function detectKind(path: string): Promise<Detected> {
  const buf = await head(path, 64 * 1024);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    let inner: Buffer;
    try {
      // The first 64 KiB of a gzip stream is truncated input: finishFlush yields what decodes so far.
      inner = gunzipSync(buf, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    } catch {
      throw new UnsupportedFileError("the file starts like gzip but does not decompress");
    }
    const kind = classify(inner);
    if (!kind) throw new UnsupportedFileError("gzip content is neither a PostgreSQL dump nor a SQLite database");
    return { kind, gzipped: true };
  }
  const kind = classify(buf);
  if (!kind) throw new UnsupportedFileError("not a PostgreSQL custom-format dump, plain SQL or a SQLite database");
  return { kind, gzipped: false };
}
