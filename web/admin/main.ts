// The organiser's dashboard. The admin token lives in sessionStorage (this tab only) and travels as a header; no
// cookie exists, so no cross-site request can act with it. Instances arrive on one server-sent event stream.
import { ApiError, call, readEvents, type Instance } from "../shared/api.ts";
import { byId } from "../shared/dom.ts";
import { load, save } from "../shared/storage.ts";
import { confirmAction } from "./confirm.ts";
import { renderSummary, type Summary } from "./summary.ts";
import { renderTable, type SortKey } from "./table.ts";

const STORAGE_KEY = "ctfi.admin-token";
const instances = new Map<string, Instance>();
let token: string | null = load(STORAGE_KEY);
let stream: AbortController | null = null;
let sort: { key: SortKey; descending: boolean } = { key: "created_at", descending: true };

const status = byId("live-status");
const actionMessage = byId("action-message");

function showDashboard(on: boolean): void {
  byId("dashboard").hidden = !on;
  byId("sign-in-section").hidden = on;
  byId("sign-out").hidden = !on;
}

function draw(): void {
  renderTable(byId<HTMLTableElement>("instances"), [...instances.values()], filters(), sort);
}

function filters() {
  return {
    team: byId<HTMLInputElement>("filter-team").value.trim(),
    challenge: byId<HTMLInputElement>("filter-challenge").value.trim(),
    state: byId<HTMLSelectElement>("filter-state").value,
  };
}

function say(text: string, kind: "info" | "error" | "ok" = "info"): void {
  actionMessage.textContent = text;
  actionMessage.className = `message message-${kind}`;
}

/** Keeps one event stream open while signed in, reconnecting with a growing pause when it drops. */
async function listen(): Promise<void> {
  let pause = 1000;
  while (token) {
    const controller = new AbortController();
    stream = controller;
    try {
      await readEvents(
        token,
        "/admin/events",
        controller.signal,
        () => {
          status.textContent = "Live: connected";
          pause = 1000;
        },
        onEvent,
      );
    } catch (err) {
      if (controller.signal.aborted) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        signOut(`Signed out: the server refused the token (${err.message}).`);
        return;
      }
    }
    if (controller.signal.aborted) return;
    status.textContent = `Live: disconnected, reconnecting in ${Math.round(pause / 1000)} s`;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 15_000);
  }
}

function onEvent(event: string, data: string): void {
  if (event === "snapshot") {
    instances.clear();
    for (const row of (JSON.parse(data) as { instances: Instance[] }).instances) instances.set(row.instance_id, row);
    draw();
  } else if (event === "instance") {
    const row = JSON.parse(data) as Instance;
    instances.set(row.instance_id, row);
    draw();
  } else if (event === "summary") {
    renderSummary(JSON.parse(data) as Summary);
  }
}

async function signIn(candidate: string): Promise<void> {
  const error = byId("sign-in-error");
  error.textContent = "";
  try {
    renderSummary(await call<Summary>(candidate, "GET", "/admin/summary"));
  } catch (err) {
    error.textContent =
      err instanceof ApiError && err.status === 401
        ? "That token is not accepted."
        : err instanceof ApiError && err.status === 403
          ? "That is a team token; the dashboard needs an admin token."
          : `Cannot sign in: ${err instanceof Error ? err.message : String(err)}`;
    return;
  }
  token = candidate;
  save(STORAGE_KEY, candidate);
  byId<HTMLInputElement>("admin-token").value = "";
  showDashboard(true);
  status.textContent = "Live: connecting";
  void listen();
}

function signOut(reason = "Signed out."): void {
  token = null;
  save(STORAGE_KEY, null);
  stream?.abort();
  instances.clear();
  showDashboard(false);
  status.textContent = reason;
}

async function act(action: string, id: string): Promise<void> {
  const row = instances.get(id);
  if (!row || !token) return;
  const what = `${row.challenge_id} of team ${row.team_id}`;
  const body = { team_id: row.team_id, challenge_id: row.challenge_id };
  try {
    if (action === "remove") {
      if (!(await confirmAction(`Remove the instance of ${what}? The team loses its container.`, "Remove"))) return;
      await call(token, "POST", "/remove", body, { prefer: "respond-async" });
      say(`Removing the instance of ${what}.`, "ok");
    } else if (action === "extend") {
      if (!(await confirmAction(`Extend the instance of ${what} by its time to live?`, "Extend"))) return;
      const extended = await call<Instance>(token, "POST", "/extend", body);
      say(`Extended ${what}; it now expires at ${new Date(extended.expires_at ?? "").toLocaleTimeString()}.`, "ok");
    }
  } catch (err) {
    say(err instanceof ApiError ? `${action} refused: ${err.message}` : `${action} failed: ${String(err)}`, "error");
  }
}

async function removeAll(challenge: string): Promise<void> {
  if (!token) return;
  const ok = await confirmAction(
    `Remove every live instance of ${challenge}? Every team running it loses its container.`,
    "Remove all",
  );
  if (!ok) return;
  try {
    const res = await call<{ message: string }>(
      token,
      "POST",
      `/admin/challenges/${encodeURIComponent(challenge)}/remove-all`,
      {
        confirm: challenge,
      },
    );
    say(res.message, "ok");
  } catch (err) {
    say(err instanceof ApiError ? `Remove all refused: ${err.message}` : String(err), "error");
  }
}

byId<HTMLFormElement>("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  void signIn(byId<HTMLInputElement>("admin-token").value.trim());
});
byId("sign-out").addEventListener("click", () => signOut());
byId<HTMLFormElement>("filters").addEventListener("input", draw);
byId<HTMLFormElement>("filters").addEventListener("submit", (event) => event.preventDefault());
byId("instances").addEventListener("click", (event) => {
  const target = event.target as HTMLElement;
  const action = target.closest<HTMLButtonElement>("button[data-action]");
  if (action) return void act(action.dataset.action!, action.dataset.id!);
  const header = target.closest<HTMLElement>("th[data-sort]");
  if (header) {
    const key = header.dataset.sort as SortKey;
    sort = { key, descending: sort.key === key ? !sort.descending : false };
    draw();
  }
});
byId("challenges").addEventListener("click", (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-remove-all]");
  if (button) void removeAll(button.dataset.removeAll!);
});
// Ages and countdowns move on their own.
setInterval(() => token && draw(), 5000);

if (token) void signIn(token);
else byId<HTMLInputElement>("admin-token").focus();
