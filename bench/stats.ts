import { request, type RequestOptions } from "node:http";

/** Percentile (nearest rank) of a list of milliseconds. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

export const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
export const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

/** One HTTP GET, timed from the request to the last byte of its body. */
export function timedGet(options: RequestOptions): Promise<{ ms: number; status: number; body: string }> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const req = request(options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => ok({ ms: performance.now() - t0, status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** Waits until an HTTP GET of `url` answers 200. */
export async function untilHttpOk(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
