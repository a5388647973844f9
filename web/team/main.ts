// The team page: the team's instances, with start, stop and extend, the address to copy and a countdown. The team
// token arrives in the URL's fragment (never sent to a server), moves to sessionStorage and leaves the address bar.
import { call, type Instance } from "../shared/api.ts";
import { byId, clock, duration, el, stateBadge } from "../shared/dom.ts";
import { load, save } from "../shared/storage.ts";
import { explain } from "./messages.ts";

const STORAGE_KEY = "ctfi.team";
const LIVE = new Set(["requested", "starting", "running", "stopping"]);
const SETTLED = new Set(["running", "removed", "failed"]);

interface Session {
  token: string;
  teamId: string;
  challenges: string[];
}

function readSession(): Session | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (token) {
    history.replaceState(null, "", location.pathname); // the token leaves the address bar and the history
    const teamId = teamOf(token);
    if (!teamId) return null;
    const challenges = (fragment.get("challenges") ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter((c) => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(c));
    const session = { token, teamId, challenges };
    save(STORAGE_KEY, JSON.stringify(session));
    return session;
  }
  try {
    return JSON.parse(load(STORAGE_KEY) ?? "null") as Session | null;
  } catch {
    return null;
  }
}

/** The team the token names; the server checks the signature, the page only needs the name. */
function teamOf(token: string): string | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
      team_id?: unknown;
    };
    return typeof payload.team_id === "string" ? payload.team_id : null;
  } catch {
    return null;
  }
}

const session = readSession();
const message = byId("message");
const list = byId<HTMLUListElement>("challenges");
let instances: Instance[] = [];
const busy = new Set<string>();

function say(text: string, kind: "info" | "error" | "ok" = "info"): void {
  message.textContent = text;
  message.className = `message message-${kind}`;
}

/** The newest instance of each challenge, live ones first; the platform's challenges appear even without one. */
function byChallenge(): Map<string, Instance | null> {
  const out = new Map<string, Instance | null>();
  for (const id of session?.challenges ?? []) out.set(id, null);
  for (const i of instances) {
    const seen = out.get(i.challenge_id);
    if (!seen || (LIVE.has(i.state) && !LIVE.has(seen.state))) out.set(i.challenge_id, i);
  }
  return out;
}

/**
 * The control a keyboard user was on, kept across redraws (which replace every card): without it, focus would
 * fall back to the page's start after each refresh or action.
 */
let focused: { action: string; challenge: string } | null = null;

function render(): void {
  const rows = byChallenge();
  byId("empty").hidden = rows.size > 0;
  list.replaceChildren(...[...rows].map(([challenge, instance]) => card(challenge, instance)));
  tick();
  if (focused && (document.activeElement === document.body || document.activeElement === null))
    list
      .querySelector<HTMLElement>(
        `button[data-action="${CSS.escape(focused.action)}"][data-challenge="${CSS.escape(focused.challenge)}"]`,
      )
      ?.focus();
}

function card(challenge: string, instance: Instance | null): HTMLLIElement {
  const live = instance && LIVE.has(instance.state) ? instance : null;
  const state = live?.state ?? (instance?.state === "failed" ? "failed" : "none");
  const disabled = busy.has(challenge);
  const addresses = live?.state === "running" ? addressesOf(live) : [];
  const headingId = `challenge-${challenge}`;
  return el(
    "li",
    { class: "challenge-card", "data-challenge": challenge, "aria-labelledby": headingId },
    el("h2", { id: headingId }, challenge),
    el(
      "p",
      { class: "state-line" },
      "State: ",
      state === "none" ? el("span", { class: "state" }, "Not started") : stateBadge(state),
    ),
    instance?.state === "failed" && !live && instance.error
      ? el("p", { class: "error-text" }, "Last start failed: ", el("span", { "data-field": "error" }, instance.error))
      : null,
    ...addresses.map((a, i) =>
      el(
        "p",
        { class: "address" },
        el("label", { for: `address-${challenge}-${i}` }, a.label),
        el("input", { id: `address-${challenge}-${i}`, readonly: true, value: a.value, "data-field": "address" }),
        el(
          "button",
          {
            type: "button",
            "data-action": "copy",
            "data-challenge": challenge,
            "data-index": String(i),
            "aria-label": addresses.length > 1 ? `Copy ${a.label} of ${challenge}` : `Copy address of ${challenge}`,
          },
          "Copy",
        ),
      ),
    ),
    live?.expires_at
      ? el(
          "p",
          { class: "countdown" },
          "Time left: ",
          el("time", { "data-expires": live.expires_at, datetime: live.expires_at }, ""),
          ` (expires at ${clock(live.expires_at)})`,
        )
      : null,
    live?.state === "running" && live.renewable_at
      ? el("p", { class: "renewal muted", "data-opens": live.renewable_at }, "")
      : null,
    el(
      "p",
      { class: "actions" },
      live
        ? null
        : el(
            "button",
            {
              type: "button",
              "data-action": "start",
              "data-challenge": challenge,
              "aria-label": `Start ${challenge}`,
              disabled,
            },
            "Start",
          ),
      live?.state === "running"
        ? el(
            "button",
            {
              type: "button",
              "data-action": "extend",
              "data-challenge": challenge,
              "aria-label": `Extend ${challenge}`,
              disabled,
            },
            "Extend",
          )
        : null,
      live && live.state !== "stopping"
        ? el(
            "button",
            {
              type: "button",
              "data-action": "stop",
              "data-challenge": challenge,
              "aria-label": `Stop ${challenge}`,
              disabled,
            },
            "Stop",
          )
        : null,
    ),
  );
}

/**
 * What a team connects to: every exposure of the instance (a web address, or the `nc` command for a TCP
 * service), labelled by container and port when there are several.
 */
function addressesOf(instance: Instance): { label: string; value: string }[] {
  const endpoints = instance.endpoints ?? [];
  if (endpoints.length === 0)
    return instance.container_address ? [{ label: "Address", value: instance.container_address }] : [];
  return endpoints.map((e) => ({
    label: endpoints.length > 1 ? `${e.protocol.toUpperCase()} ${e.container}:${e.port}` : "Address",
    value: e.protocol === "tcp" ? (e.command ?? e.address) : (e.url ?? e.address),
  }));
}

/** Countdowns move every second without redrawing anything else (focus stays where it was). */
function tick(): void {
  for (const node of list.querySelectorAll<HTMLTimeElement>("time[data-expires]")) {
    const left = new Date(node.dataset.expires!).getTime() - Date.now();
    node.textContent = left > 0 ? duration(left) : "expired";
  }
  for (const node of list.querySelectorAll<HTMLElement>("[data-opens]")) {
    const opens = node.dataset.opens!;
    const wait = new Date(opens).getTime() - Date.now();
    node.textContent =
      wait > 0 ? `Extending is possible from ${clock(opens)} (in ${duration(wait)}).` : "Extending is possible now.";
  }
}

async function refresh(): Promise<void> {
  if (!session) return;
  const page = await call<{ instances: Instance[] }>(session.token, "GET", "/instances?limit=50");
  instances = page.instances;
  render();
}

/** Follows one instance until it settles (the page's own request, not a poll of every row). */
async function follow(id: string, deadlineMs = 60_000): Promise<Instance> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const row = await call<Instance>(session!.token, "GET", `/instances/${id}`);
    if (SETTLED.has(row.state) || Date.now() > until) return row;
    instances = [row, ...instances.filter((i) => i.instance_id !== id)];
    render();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function act(action: string, challenge: string): Promise<void> {
  if (!session) return;
  const body = { team_id: session.teamId, challenge_id: challenge };
  busy.add(challenge);
  render();
  try {
    if (action === "start") {
      say(`Starting ${challenge}…`);
      const answer = await call<Instance>(session.token, "POST", "/assign", body, { prefer: "respond-async" });
      const row = await follow(answer.instance_id);
      if (row.state === "failed") say(`${challenge} failed to start: ${row.error ?? "no reason given"}`, "error");
      else if (row.state === "running")
        say(
          `${challenge} is running at ${
            addressesOf(row)
              .map((a) => a.value)
              .join(", ") || "?"
          }.`,
          "ok",
        );
      else say(`${challenge} is still starting; this page will show it when it is up.`);
    } else if (action === "stop") {
      say(`Stopping ${challenge}…`);
      await call(session.token, "POST", "/remove", body, { prefer: "respond-async" });
      say(`${challenge} is being stopped.`, "ok");
    } else if (action === "extend") {
      const row = await call<Instance>(session.token, "POST", "/extend", body);
      say(`${challenge} extended: it now expires at ${clock(row.expires_at ?? "")}.`, "ok");
    }
  } catch (err) {
    say(explain(err, challenge), "error");
  } finally {
    busy.delete(challenge);
    await refresh().catch((err: unknown) => say(explain(err, challenge), "error"));
  }
}

async function copy(challenge: string, index: string): Promise<void> {
  const input = document.getElementById(`address-${challenge}-${index}`) as HTMLInputElement | null;
  if (!input) return;
  // A frame the platform did not give allow="clipboard-write" may not write: ask first rather than be refused.
  const policy = (document as { featurePolicy?: { allowsFeature(feature: string): boolean } }).featurePolicy;
  try {
    if (policy && !policy.allowsFeature("clipboard-write")) throw new Error("clipboard not allowed here");
    await navigator.clipboard.writeText(input.value);
  } catch {
    // Clipboard access can be refused (an embedding frame without clipboard-write): select it for Ctrl+C instead.
    input.select();
    say("Address selected: press Ctrl+C (or ⌘C) to copy it.");
    return;
  }
  say(`Address of ${challenge} copied.`, "ok");
}

list.addEventListener("focusin", (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  focused = button ? { action: button.dataset.action!, challenge: button.dataset.challenge! } : null;
});
list.addEventListener("click", (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  if (!button || button.disabled) return;
  const challenge = button.dataset.challenge!;
  if (button.dataset.action === "copy") void copy(challenge, button.dataset.index ?? "0");
  else void act(button.dataset.action!, challenge);
});

if (!session) {
  say("No team token: open this page from the CTF platform.", "error");
} else {
  byId("team-name").textContent = `Team: ${session.teamId}`;
  refresh().catch((err: unknown) => say(explain(err), "error"));
  setInterval(tick, 1000);
  // The team's own list, once in a while: it shows an expiry or a stop made from elsewhere.
  setInterval(() => void refresh().catch(() => {}), 15_000);
}
