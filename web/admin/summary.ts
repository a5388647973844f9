// The overview: capacity, maintenance, backups, the per-challenge table and the two plots.
import { byId, clock, duration, el } from "../shared/dom.ts";
import { barChart } from "./plots.ts";

export interface Summary {
  capacity: { live: number; max: number; team_max: number; containers: number; containers_max: number };
  challenges: { challenge_id: string; live: number; running: number; failed_recently: number }[];
  start_latency: { window_minutes: number; bucket_bounds_seconds: number[]; counts: number[] };
  failures: { window_minutes: number; bin_minutes: number; bins: { at: string; failures: number }[] };
  backup: { file: string; at: string; age_seconds: number } | null;
  last_restore: { file: string; status: string; finished_at: string; error: string | null } | null;
  maintenance: { known: boolean; on: boolean; reason: string | null };
}

/** A backup older than this is shown as stale. */
const STALE_BACKUP_SECONDS = 26 * 3600;

export function renderSummary(s: Summary): void {
  const { live, max, team_max } = s.capacity;
  const meter = byId<HTMLMeterElement>("capacity-meter");
  meter.max = max;
  meter.value = live;
  meter.high = max * 0.8;
  meter.optimum = 0;
  const percent = Math.round((live / max) * 100);
  const { containers, containers_max } = s.capacity;
  const full = live >= max || containers >= containers_max;
  byId("capacity-text").textContent =
    `${live} of ${max} live instances (${percent}%), ${containers} of ${containers_max} containers` +
    `${full ? "; FULL: new starts are refused" : ""}; ${team_max} per team.`;

  const m = s.maintenance;
  byId("maintenance").replaceChildren(
    !m.known
      ? "Unknown (MAINTENANCE_FLAG_FILE is not set)"
      : m.on
        ? el("span", { class: "flag flag-on" }, `ON${m.reason ? `: ${m.reason}` : ""}`)
        : el("span", { class: "flag flag-off" }, "Off"),
  );

  const b = s.backup;
  byId("backup").replaceChildren(
    b
      ? el(
          "span",
          { class: b.age_seconds > STALE_BACKUP_SECONDS ? "flag flag-on" : "" },
          `Last good backup ${duration(b.age_seconds * 1000)} ago (${clock(b.at)})${b.age_seconds > STALE_BACKUP_SECONDS ? " — STALE" : ""}: ${b.file}`,
        )
      : "No backup visible (BACKUP_DIR unset or empty).",
  );
  const r = s.last_restore;
  byId("restore").textContent = r
    ? `Last restore: ${r.status.toUpperCase()} at ${clock(r.finished_at)} (${r.file})${r.error ? `: ${r.error}` : ""}`
    : "No restore recorded.";

  byId<HTMLTableElement>("challenges").tBodies[0]!.replaceChildren(
    ...s.challenges.map((c) =>
      el(
        "tr",
        { "data-challenge": c.challenge_id },
        el("th", { scope: "row" }, c.challenge_id),
        el("td", {}, String(c.live)),
        el("td", {}, String(c.running)),
        el("td", {}, String(c.failed_recently)),
        el(
          "td",
          {},
          c.live
            ? el(
                "button",
                {
                  type: "button",
                  class: "danger",
                  "data-remove-all": c.challenge_id,
                  "aria-label": `Remove all live instances of ${c.challenge_id}`,
                },
                "Remove all",
              )
            : "—",
        ),
      ),
    ),
  );

  const bounds = s.start_latency.bucket_bounds_seconds;
  const latency = s.start_latency.counts.map((value, i) => {
    const label = i < bounds.length ? `≤${bounds[i]}s` : `>${bounds.at(-1)}s`;
    return { label, value, title: `${value} start(s) ${label}` };
  });
  barChart(byId<HTMLElement>("latency-plot") as unknown as SVGSVGElement, latency);
  const starts = latency.reduce((n, b) => n + b.value, 0);
  byId("latency-desc").textContent = `${starts} start(s) in the last ${s.start_latency.window_minutes / 60} h.`;

  const failures = s.failures.bins.map((bin) => ({
    label: new Date(bin.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
    value: bin.failures,
    title: `${bin.failures} failed start(s) from ${clock(bin.at)}`,
  }));
  barChart(byId<HTMLElement>("failures-plot") as unknown as SVGSVGElement, failures, 6);
  const failed = failures.reduce((n, b) => n + b.value, 0);
  byId("failures-desc").textContent = `${failed} failed start(s) in the last ${s.failures.window_minutes / 60} h.`;
}
