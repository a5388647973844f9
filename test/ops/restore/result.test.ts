import { describe, expect, it } from "vitest";
import { assembleResult } from "../../../ops/restore/result.ts";

const run = { runId: "r1", file: "a.dump", sha256: "0".repeat(64), size: 1, startedAt: "2026-01-01T00:00:00.000Z" };

describe("the result of a run or of a recovery", () => {
  it("fails a run that otherwise went well when a container did not come back, and names it in the error", () => {
    const result = assembleResult(run, {
      status: "ok",
      errors: [],
      steps: [],
      stopped: ["web", "worker"],
      notBack: ["worker: not healthy after 30000 ms"],
    });
    expect(result).toMatchObject({
      status: "failed",
      error: "containers not back: worker: not healthy after 30000 ms",
    });
  });

  it("keeps the run's own error first, and has none when all went well", () => {
    const failed = assembleResult(run, {
      status: "failed",
      errors: ["interrupted"],
      steps: [],
      stopped: [],
      notBack: ["web: gone"],
    });
    expect(failed.error).toBe("interrupted; containers not back: web: gone");
    const ok = assembleResult(run, { status: "ok", errors: [], steps: [], stopped: ["web"], notBack: [] });
    expect(ok).toMatchObject({ ...run, status: "ok", stopped: ["web"] });
    expect(ok.error).toBeUndefined();
    expect(Date.parse(ok.finishedAt)).not.toBeNaN();
  });
});
