import { Writable } from "node:stream";
import type { Logger } from "../../infra/logger.ts";

/** A sink that keeps only the last bytes it saw: where a completion trailer would be. */
export function tailSink(limit = 4096) {
  let tail = Buffer.alloc(0);
  let total = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      // Copies at most `limit` bytes a chunk, and holds on to none of the chunk itself.
      tail =
        chunk.length >= limit
          ? Buffer.from(chunk.subarray(-limit))
          : Buffer.from(Buffer.concat([tail, chunk]).subarray(-limit));
      cb();
    },
  });
  return { stream, tail: () => tail.toString("utf8"), total: () => total };
}

/** Logs bytes so far and throughput every `intervalMs` while a long copy runs. */
export function progressLogger(log: Logger, intervalMs: number, bytes: () => number) {
  const started = Date.now();
  const rate = () => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? Math.round((bytes() / 1e6 / seconds) * 10) / 10 : 0;
  };
  const timer = setInterval(() => log.info({ bytes: bytes(), mbPerSecond: rate() }, "progress"), intervalMs);
  timer.unref();
  return { rate, stop: () => clearInterval(timer) };
}
