// Building the page from data. Values only ever go in as text nodes or attribute values, never as markup, so a
// team name or an engine error containing `<script>` shows as those characters.

import { STATE_LABEL } from "./format.ts";

export { clock, duration } from "./format.ts";

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

export function stateBadge(state: string): HTMLElement {
  return el(
    "span",
    { class: `state state-${/^[a-z]+$/.test(state) ? state : "unknown"}` },
    STATE_LABEL[state] ?? state,
  );
}
