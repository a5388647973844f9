import type { Logger } from "../../infra/logger.ts";

export type PingEvent = "start" | "success" | "fail";

/**
 * healthchecks.io-style pings (URL, URL/start, URL/fail) and an optional JSON webhook. A monitoring endpoint
 * being down never fails a backup: errors are logged and dropped.
 */
export function createNotifier(opts: { pingUrl?: string; webhookUrl?: string; log: Logger; timeoutMs?: number }) {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const post = async (url: string, body: string, contentType: string) => {
    try {
      const res = await fetch(url, {
        method: "POST",
        body,
        headers: { "content-type": contentType },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      if (!res.ok) opts.log.warn({ status: res.status }, "notification answered with an error status");
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, "notification failed");
    }
  };
  return {
    async ping(event: PingEvent, text = ""): Promise<void> {
      if (!opts.pingUrl) return;
      const base = opts.pingUrl.replace(/\/$/, "");
      await post(event === "success" ? base : `${base}/${event}`, text.slice(0, 10_000), "text/plain");
    },
    async webhook(payload: unknown): Promise<void> {
      if (opts.webhookUrl) await post(opts.webhookUrl, JSON.stringify(payload), "application/json");
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
