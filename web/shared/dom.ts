// Building the page from data. Values only ever go in as text nodes or attribute values, never as markup, so a
// team name or an engine error containing `<script>` shows as those characters.

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page is missing #${id}`);
  return node as T;
}

/** "1h 02m", "4m 05s", "12s": how long, for people. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/** A local time of day, or the date too when it is not today. */
export function clock(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

/** State words shown beside their colour, so no one has to tell colours apart. */
export const STATE_LABEL: Record<string, string> = {
  requested: "Requested",
  starting: "Starting",
  running: "Running",
  stopping: "Stopping",
  removed: "Removed",
  failed: "Failed",
};

export function stateBadge(state: string): HTMLElement {
  return el(
    "span",
    { class: `state state-${/^[a-z]+$/.test(state) ? state : "unknown"}` },
    STATE_LABEL[state] ?? state,
  );
}
