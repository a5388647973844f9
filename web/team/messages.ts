// What a refusal means for a team, in plain words.
import { ApiError } from "../shared/api.ts";
import { clock, duration } from "../shared/format.ts";

export function explain(err: unknown, challenge = "this challenge"): string {
  if (!(err instanceof ApiError)) return "The instancer cannot be reached; check your connection and try again.";
  const wait = err.retryAfter ? ` Try again in ${duration(err.retryAfter * 1000)}.` : "";
  switch (err.code) {
    case "renewal_not_open": {
      const opens = typeof err.details.renewable_at === "string" ? err.details.renewable_at : null;
      return opens
        ? `Renewal of ${challenge} is not open yet: it opens at ${clock(opens)} (in ${duration(new Date(opens).getTime() - Date.now())}).`
        : `Renewal of ${challenge} is not open yet.${wait}`;
    }
    case "max_lifetime_reached":
      return `${challenge} has reached its maximum lifetime and cannot be extended any more.`;
    case "team_quota_exceeded":
      return `Your team's quota is reached: stop one of your running instances before starting ${challenge}.`;
    case "capacity_exhausted":
      return `The event is at full capacity right now, so ${challenge} cannot start.${wait || " Try again in a moment."}`;
    case "cooldown":
      return `Please wait a moment before doing that again with ${challenge}.${wait}`;
    case "not_running":
      return `${challenge} is not running, so it cannot be extended.`;
    case "instance_failed":
      return `${challenge} failed to start: ${typeof err.details.reason === "string" ? err.details.reason : err.message}`;
    case "not_found":
      return `${challenge} has no running instance (it may have expired).`;
    case "unauthorized":
      return "Your session has expired: open this page again from the CTF platform.";
    case "forbidden":
      return "This page's token does not allow that.";
    case "service_unavailable":
    case "maintenance":
      return `The instancer is busy or under maintenance.${wait || " Try again shortly."}`;
    default:
      return `${err.message}${wait}`;
  }
}
