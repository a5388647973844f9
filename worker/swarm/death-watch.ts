import type { Logger } from "../../infra/logger.ts";
import type { DeathHandlers } from "../engine/engine.ts";
import type { SurveyEntry } from "./engine.ts";

const DEFAULT_POLL_MS = 2000;

/**
 * Looks at every service of the deployment every `pollMs` and reports each task that ended (or whose node went
 * away) once. The manager emits no task events on the supported engines, and a container's own `die` event is
 * only on its node. A failed look is retried; the first good one after it calls `onResume`.
 */
export class SwarmDeathWatch {
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private broken = false;
  private reported = new Set<string>();
  private readonly opts: {
    survey: () => Promise<SurveyEntry[]>;
    handlers: DeathHandlers;
    logger: Logger;
    pollMs?: number;
  };

  constructor(opts: SwarmDeathWatch["opts"]) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    // Deaths from before this worker started are the start-up reconciliation's: only new ones are reported.
    await this.poll(false);
    this.timer = setInterval(() => void this.poll(true), this.opts.pollMs ?? DEFAULT_POLL_MS);
  }

  private async poll(report: boolean): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const entries = await this.opts.survey();
      const current = new Set<string>();
      for (const e of entries) {
        if (e.seen.state !== "exited") continue;
        const key = `${e.serviceId}/${e.task?.ID ?? ""}/${e.seen.reason}`;
        current.add(key);
        if (this.reported.has(key) || !report) continue;
        const { reason, movable } = e.seen;
        this.opts.handlers
          .onDeath(e.instanceId, reason, movable)
          .catch((err: unknown) =>
            this.opts.logger.warn(
              { err, instanceId: e.instanceId },
              "handling a death failed; the reconciler will retry",
            ),
          );
      }
      this.reported = current;
      if (this.broken) {
        this.broken = false;
        this.opts.logger.info("swarm is answering again");
        await this.opts.handlers
          .onResume()
          .catch((err: unknown) => this.opts.logger.warn({ err }, "reconcile after the swarm came back failed"));
      }
    } catch (err) {
      if (!this.broken) this.opts.logger.warn({ err: (err as Error).message }, "swarm survey failed; retrying");
      this.broken = true;
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
