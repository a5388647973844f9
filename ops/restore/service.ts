import { Counter, Gauge, Registry } from "prom-client";
import { sha256File } from "../shared/files.ts";
import { createIntake } from "./intake.ts";
import { recoverInterruptedRun } from "./recovery.ts";
import type { RestoreResult } from "./result.ts";
import type { RestoreDeps } from "./run.ts";
import { restoreFile } from "./run.ts";
import { metricsRoute, serveProbes } from "../../infra/probe-server.ts";

function createRestoreMetrics() {
  const registry = new Registry();
  return {
    registry,
    runs: new Counter({
      name: "restore_runs_total",
      help: "Restores by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    downtime: new Gauge({
      name: "restore_last_downtime_seconds",
      help: "First container stopped to last one running again",
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: "restore_last_success_timestamp_seconds",
      help: "End of the last successful restore",
      registers: [registry],
    }),
  };
}

function ifGone(err: NodeJS.ErrnoException): null {
  if (err.code === "ENOENT") return null;
  throw err;
}

/** Recovers an interrupted run, then polls the drop directory and restores one file at a time. */
export async function startRestoreService(deps: RestoreDeps & { onResult?: (r: RestoreResult) => void }) {
  const c = deps.config;
  const metrics = createRestoreMetrics();
  const record = (r: RestoreResult) => {
    metrics.runs.inc({ outcome: r.status });
    if (r.downtimeMs !== undefined) metrics.downtime.set(r.downtimeMs / 1000);
    if (r.status === "ok") metrics.lastSuccess.set(Date.now() / 1000);
    deps.onResult?.(r);
    if (c.RESTORE_WEBHOOK_URL)
      void fetch(c.RESTORE_WEBHOOK_URL, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ event: "restore", ...r }),
        signal: AbortSignal.timeout(10_000),
      }).then(
        (res) => res.arrayBuffer(),
        (err: Error) => deps.log.warn({ err: err.message }, "webhook failed"),
      );
  };
  const recovered = await recoverInterruptedRun(c, deps.docker, deps.log);
  if (recovered) record(recovered);

  const intake = createIntake(c.RESTORE_WATCH_DIR, c.RESTORE_STABLE_SECONDS * 1000);
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const tick = async () => {
    try {
      const path = await intake.nextReady();
      // Null: the one-shot command took the file meanwhile.
      const identity = path ? await sha256File(path).catch(ifGone) : null;
      if (path && identity) {
        deps.log.info({ path, ...identity }, "file complete: restoring");
        const result = await restoreFile(deps, path, { sha256: identity.sha256, size: identity.size });
        if (result.status !== "skipped") record(result);
      }
    } catch (err) {
      deps.log.error({ err: (err as Error).message }, "intake failed");
    }
    if (!stopping) timer = setTimeout(() => (current = tick()), c.RESTORE_POLL_INTERVAL * 1000);
  };
  current = tick();

  const { server, port } = await serveProbes(
    {
      "/metrics": metricsRoute(metrics.registry),
      "/healthz": () => ({ status: 200, contentType: "application/json", body: '{"ok":true}' }),
    },
    c.RESTORE_METRICS_HOST,
    c.RESTORE_METRICS_PORT,
  );
  deps.log.info({ watch: intake.incoming, port }, "restore service up");
  return {
    port,
    /** Finishes the restore in progress (never abandons one half-way), then stops polling. */
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await current;
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
