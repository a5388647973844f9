import type { Logger } from "../../infra/logger.ts";
import type { StepRecord } from "./result.ts";

export type Timeline = ReturnType<typeof createTimeline>;

/**
 * The steps of one run as they happen, for its result. Append-only: each phase adds its own steps and reads none,
 * so it carries nothing from one phase to the next. `onStep` is called after each step that went well; tests and
 * metrics observe the run through it, and a throw there fails the step.
 */
export function createTimeline(log: Logger, onStep?: (step: string) => void | Promise<void>) {
  const entries: StepRecord[] = [];
  return {
    entries,
    async step<T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string): Promise<T> {
      const t = Date.now();
      try {
        const v = await fn();
        entries.push({ name, ms: Date.now() - t, ok: true, detail: detail?.(v) });
        log.info({ step: name, ms: Date.now() - t }, "step done");
        await onStep?.(name);
        return v;
      } catch (err) {
        entries.push({ name, ms: Date.now() - t, ok: false, detail: (err as Error).message });
        throw err;
      }
    },
    /** A step timed by its caller (one that reports failures rather than throwing them). */
    note(record: StepRecord): void {
      entries.push(record);
    },
  };
}
