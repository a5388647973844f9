import { describe, expect, it } from "vitest";
import { ApiError } from "../../web/shared/api.ts";
import { explain } from "../../web/team/messages.ts";

const refusal = (status: number, code: string, details: unknown = {}, retryAfter: number | null = null) =>
  new ApiError(status, code, `server says ${code}`, details, retryAfter);

describe("what the team page tells a team", () => {
  it("names each refusal the API gives in plain words", () => {
    expect(explain(refusal(429, "capacity_exhausted", {}, 30), "web100")).toBe(
      "The event is at full capacity right now, so web100 cannot start. Try again in 30s.",
    );
    expect(explain(refusal(409, "team_quota_exceeded"), "web100")).toMatch(/quota is reached: stop one/);
    const opens = new Date(Date.now() + 125_000).toISOString();
    expect(explain(refusal(409, "renewal_not_open", { renewable_at: opens }), "web100")).toMatch(
      /^Renewal of web100 is not open yet: it opens at .+ \(in 2m 0[45]s\)\.$/,
    );
    expect(explain(refusal(409, "max_lifetime_reached"), "web100")).toMatch(/maximum lifetime/);
    expect(explain(refusal(502, "instance_failed", { reason: "port 80 never served" }), "web100")).toBe(
      "web100 failed to start: port 80 never served",
    );
    expect(explain(refusal(401, "unauthorized"))).toMatch(/session has expired/);
    expect(explain(new TypeError("fetch failed"))).toMatch(/cannot be reached/);
  });
});
