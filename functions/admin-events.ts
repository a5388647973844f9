import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { dashboardRows } from "../domain/dashboard.ts";
import { getInstance, type InstanceRow } from "../domain/instances.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { instanceView } from "./shared/instance-view.ts";
import { buildSummary } from "./shared/summary.ts";

/** Changes arriving within this long go out together, with one fresh summary. */
const BATCH_MS = 200;
/** The summary (ages, backup freshness) is pushed at least this often even when no instance changes. */
const SUMMARY_EVERY_MS = 10_000;
/** How often an idle stream looks whether the server is draining, so a shutdown never waits on it. */
const DRAIN_CHECK_MS = 500;

export default defineEndpoint({
  method: "GET",
  path: "/admin/events",
  operationId: "adminEvents",
  auth: "token",
  summary:
    "Server-sent events for the dashboard: `snapshot` (live and recently ended instances) first and again after the server lost its database notifications for a while, then `instance` (one instance as GET /instances/{id} shows it) whenever one changes state, and `summary` (as GET /admin/summary) after changes and every 10 s.",
  mediaType: "text/event-stream",
  responses: { 200: z.string() },
  errors: [401, 403, 503],
  async handler({ deps, hono, log }) {
    const view = (row: InstanceRow) => instanceView(row, deps.config);
    const changed = new Set<string>();
    let resync = false;
    let wake: (() => void) | null = null;
    // Listening starts before the snapshot is read, so no change falls between the two. A null id means the
    // listener lost its connection for a while: the client gets a fresh snapshot.
    const stopListening = deps.waiter.onChange((id) => {
      if (id === null) resync = true;
      else changed.add(id);
      wake?.();
    });
    let rows, summary;
    try {
      // Read before the stream opens: a database outage is still a 503 with the envelope.
      [rows, summary] = await Promise.all([dashboardRows(deps.db), buildSummary(deps)]);
    } catch (err) {
      stopListening();
      throw err;
    }
    // Tells nginx-style proxies not to buffer the stream (the gateway passes small chunks on at once anyway).
    hono.header("X-Accel-Buffering", "no");
    const response = streamSSE(
      hono,
      async (stream) => {
        stream.onAbort(() => wake?.());
        try {
          await stream.writeSSE({
            event: "snapshot",
            data: JSON.stringify({ instances: rows.map(view) }),
          });
          await stream.writeSSE({ event: "summary", data: JSON.stringify(summary) });
          let summarySent = Date.now();
          while (!stream.aborted && !deps.draining.value) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, DRAIN_CHECK_MS);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
              if (changed.size || resync) wake();
            });
            wake = null;
            if (resync) {
              resync = false;
              changed.clear();
              const fresh = await dashboardRows(deps.db);
              await stream.writeSSE({
                event: "snapshot",
                data: JSON.stringify({ instances: fresh.map(view) }),
              });
              summarySent = 0; // and a fresh summary below
            }
            if (changed.size) await stream.sleep(BATCH_MS);
            const ids = [...changed];
            changed.clear();
            for (const id of ids) {
              const row = await getInstance(deps.db, id);
              if (row) await stream.writeSSE({ event: "instance", data: JSON.stringify(view(row)) });
            }
            if (ids.length || Date.now() - summarySent >= SUMMARY_EVERY_MS) {
              await stream.writeSSE({ event: "summary", data: JSON.stringify(await buildSummary(deps)) });
              summarySent = Date.now();
            }
          }
        } finally {
          stopListening();
        }
      },
      async (err) => {
        log.warn({ err: err.message }, "dashboard event stream ended by an error");
      },
    );
    // One stream per connection: once it ends (the server drains, the client leaves) the connection closes too,
    // instead of idling in keep-alive and holding a shutdown up.
    response.headers.set("Connection", "close");
    return { status: 200, response };
  },
});
