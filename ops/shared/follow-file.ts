import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface FollowOptions {
  /** True once the writer has exited: a read that finds nothing after that is the end of the file. */
  writerDone: () => boolean;
  /** Receives each chunk read; the buffer is reused once the returned promise settles. */
  onChunk: (chunk: Buffer) => Promise<void>;
  /** How long to wait before reading again when the reader has caught up with the writer. */
  pollMs?: number;
  chunkBytes?: number;
  signal?: AbortSignal;
}

/**
 * Reads a file while another process writes it, from its first byte to the writer's last; resolves with the number
 * of bytes read. The writer never waits for the reader (the file is the buffer between them), and one reused buffer
 * keeps the memory flat whatever the file's size.
 */
export async function followFile(path: string, opts: FollowOptions): Promise<number> {
  const buf = Buffer.allocUnsafe(opts.chunkBytes ?? 256 << 10);
  const fh = await open(path, "r");
  let size = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      // Read before looking at the writer: a writer already done before this read has written its last byte.
      const done = opts.writerDone();
      const { bytesRead } = await fh.read(buf, 0, buf.length, size);
      if (bytesRead > 0) {
        size += bytesRead;
        await opts.onChunk(buf.subarray(0, bytesRead));
      } else if (done) break;
      else await sleep(opts.pollMs ?? 20, undefined, { signal: opts.signal });
    }
  } finally {
    await fh.close();
  }
  return size;
}
