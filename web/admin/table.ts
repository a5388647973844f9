// The instances table: filtered, sorted, redrawn from the rows the event stream delivered. Focus stays on the
// control it was on across redraws, so the table is usable by keyboard while it changes.
import type { Instance } from "../shared/api.ts";
import { duration, el, stateBadge } from "../shared/dom.ts";

export type SortKey = keyof Instance | "node";
const LIVE = new Set(["requested", "starting", "running", "stopping"]);

/** The host an instance answers on (its node), from its address. */
export function nodeOf(row: Instance): string {
  const address = row.container_address;
  if (!address) return "";
  try {
    return new URL(address).hostname;
  } catch {
    return address.replace(/:\d+$/, "");
  }
}

/** A row's button: found again by its focus key after a redraw, named for screen readers with the row it acts on. */
const rowAction = (action: string, label: string, id: string, who: string, cls?: string) =>
  el(
    "button",
    {
      type: "button",
      class: cls,
      "data-action": action,
      "data-id": id,
      "data-focus-key": `${action}-${id}`,
      "aria-label": `${label} ${who}`,
    },
    label,
  );

const valueOf = (row: Instance, key: SortKey): string =>
  key === "node" ? nodeOf(row) : String((row as unknown as Record<string, unknown>)[key] ?? "");

export function renderTable(
  table: HTMLTableElement,
  rows: Instance[],
  filter: { team: string; challenge: string; state: string },
  sort: { key: SortKey; descending: boolean },
): void {
  const shown = rows
    .filter((r) => !filter.team || r.team_id.includes(filter.team))
    .filter((r) => !filter.challenge || r.challenge_id.includes(filter.challenge))
    .filter((r) => !filter.state || (filter.state === "live" ? LIVE.has(r.state) : r.state === filter.state))
    .sort((a, b) => valueOf(a, sort.key).localeCompare(valueOf(b, sort.key)) * (sort.descending ? -1 : 1));

  for (const th of table.querySelectorAll<HTMLElement>("th[data-sort]"))
    th.setAttribute(
      "aria-sort",
      th.dataset.sort === sort.key ? (sort.descending ? "descending" : "ascending") : "none",
    );
  table.caption!.textContent = `${shown.length} of ${rows.length} instances shown`;

  const focused = document.activeElement as HTMLElement | null;
  const focusKey = focused?.dataset.focusKey;
  const now = Date.now();
  const body = table.tBodies[0]!;
  body.replaceChildren(
    ...shown.map((r) => {
      const live = LIVE.has(r.state);
      const who = `${r.challenge_id} of team ${r.team_id}`;
      return el(
        "tr",
        { "data-instance-id": r.instance_id, "data-state": r.state },
        el("td", { "data-col": "team" }, r.team_id),
        el("td", { "data-col": "challenge" }, r.challenge_id),
        el("td", { "data-col": "state" }, stateBadge(r.state)),
        el("td", { "data-col": "age" }, duration(now - new Date(r.created_at).getTime())),
        el(
          "td",
          { "data-col": "expires" },
          live && r.expires_at ? duration(new Date(r.expires_at).getTime() - now) : "—",
        ),
        el(
          "td",
          { "data-col": "address" },
          ...(r.endpoints?.length > 1
            ? r.endpoints.map((e) => el("div", {}, e.url ?? e.address))
            : [r.container_address ?? "—"]),
        ),
        el("td", { "data-col": "node" }, nodeOf(r) || "—"),
        el("td", { "data-col": "error", class: r.error ? "error-text" : "muted" }, r.error ?? r.state_reason ?? ""),
        el(
          "td",
          { class: "actions" },
          r.state === "running" ? rowAction("extend", "Extend", r.instance_id, who) : null,
          live && r.state !== "stopping" ? rowAction("remove", "Remove", r.instance_id, who, "danger") : null,
        ),
      );
    }),
  );
  if (focusKey) body.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}
