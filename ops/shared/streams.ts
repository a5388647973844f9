import { createHash } from "node:crypto";
import { Transform, Writable } from "node:stream";
import type { Logger } from "../../infra/logger.ts";

/** Passes bytes through while hashing and counting them. */
export function hashingTap() {
  const hash = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, bytes: () => size, digest: () => ({ sha256: hash.digest("hex"), size }) };
}

/** A sink that keeps only the last bytes it saw: where a completion trailer would be. */
export function tailSink(limit = 4096) {
  let tail = Buffer.alloc(0);
  let total = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      tail = Buffer.concat([tail, chunk]).subarray(-limit);
      cb();
    },
  });
  return { stream, tail: () => tail.toString("utf8"), total: () => total };
}

/**
 * Passes bytes through and also writes them to `side`, waiting for it (backpressure) before going on. With
 * `sideMayClose`, a side that closes early (a checker that has seen enough, or failed: its exit code says which)
 * stops receiving bytes instead of breaking the main stream.
 */
export function teeTo(side: Writable, opts: { sideMayClose?: boolean } = {}): Transform {
  let open = true;
  side.on("error", () => {
    open = false;
  });
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!open || side.destroyed) return cb(null, chunk);
      side.write(chunk, (err) => {
        if (!err) return cb(null, chunk);
        if (opts.sideMayClose) {
          open = false;
          return cb(null, chunk);
        }
        cb(err);
      });
    },
    flush(cb) {
      if (!open || side.destroyed) return cb();
      side.end(() => cb());
    },
  });
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
