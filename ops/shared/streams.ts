import type { Logger } from "../../infra/logger.ts";

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
