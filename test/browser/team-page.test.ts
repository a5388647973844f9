import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transition } from "../../domain/instances.ts";
import { createDb, type Db } from "../../infra/db.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { TEAM_TOKEN_SECRET, teamToken } from "../support/team-token.ts";
import { launchBrowser, MARKUP, openPage } from "./browser.ts";

/**
 * A stand-in for the CTF platform: a page that embeds whatever `?src=` names in an iframe. Reached as
 * http://localhost:PORT it is the configured platform; as http://127.0.0.1:PORT it is another origin.
 */
async function startPlatform(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? "/", "http://x").searchParams.get("src") ?? "";
    const attr = src.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><title>platform</title><iframe src="${attr}" width="900" height="600"></iframe>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe("the team page in a real browser", () => {
  let stack: TestStack;
  let browser: Browser;
  let db: Db;
  let platform: { server: Server; port: number };
  let frameAncestors = "";
  beforeAll(async () => {
    platform = await startPlatform();
    frameAncestors = `https://ctf.example.org http://localhost:${platform.port}`;
    [stack, browser] = await Promise.all([
      TestStack.start({
        env: {
          TEAM_TOKEN_SECRET,
          TEAM_PAGE_FRAME_ANCESTORS: frameAncestors,
          TEAM_MAX_INSTANCES: "1",
          // Renewal opens 5 s after a start (TTL 3600 s): the page meets "not open yet", then renews.
          RENEW_WINDOW_SECONDS: "3595",
        },
      }),
      launchBrowser(),
    ]);
    db = createDb(stack.db.url, { max: 2 });
    const spec = { image: WEB100.image, port: 80, memory_mb: 64, cpus: 0.25, pids_limit: 64 };
    expect((await stack.request("PUT", "/challenges/web200", { body: spec })).status).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
    await db?.end();
    await stack?.stop();
    platform?.server.close();
  });

  const open = async (team: string, challenges: string): Promise<{ page: Page; problems: string[] }> => {
    const opened = await openPage(browser);
    await opened.page.goto(`${stack.url}/team#token=${await teamToken(team)}&challenges=${challenges}`);
    return opened;
  };
  const card = (page: Page, challenge: string) => page.locator(`li[data-challenge="${challenge}"]`);
  const message = (page: Page) => page.locator("#message").textContent();

  it("may be framed only by the configured platform, and runs no inline code", async () => {
    const res = await fetch(`${stack.url}/team`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`frame-ancestors ${frameAncestors}`);
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBeNull(); // it would forbid the configured platform too
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("works embedded by the configured platform, and refuses to be framed by any other origin", async () => {
    const src = `${stack.url}/team#token=${await teamToken("alpha")}&challenges=web100`;
    const { page, problems } = await openPage(browser);
    await page.goto(`http://localhost:${platform.port}/?src=${encodeURIComponent(src)}`);
    const framed = page.frameLocator("iframe");
    await framed.locator("#team-name", { hasText: "Team: alpha" }).waitFor();
    await framed.locator('li[data-challenge="web100"]').getByRole("button", { name: "Start" }).waitFor();
    // Acting from inside the frame: start, copy (the clipboard may be refused to a frame: then the address is
    // selected), stop.
    const framedCard = framed.locator('li[data-challenge="web100"]');
    await framedCard.getByRole("button", { name: "Start" }).click();
    await framedCard.locator(".state-line", { hasText: "Running" }).waitFor({ timeout: 20_000 });
    await framedCard.getByRole("button", { name: "Copy address" }).click();
    await expect
      .poll(() => framed.locator("#message").textContent())
      .toMatch(/Address of web100 copied|Address selected/);
    await framedCard.getByRole("button", { name: "Stop" }).click();
    await framedCard.getByRole("button", { name: "Start" }).waitFor({ timeout: 20_000 });
    expect(problems, "errors inside the frame (e.g. storage a framed page may be denied)").toEqual([]);

    const refused: string[] = [];
    page.on("console", (msg) => refused.push(msg.text()));
    await page.goto(`http://127.0.0.1:${platform.port}/?src=${encodeURIComponent(src)}`);
    await expect.poll(() => refused.join("\n")).toMatch(/frame-ancestors/);
    expect(await framed.locator("#team-name").count()).toBe(0);
    await page.context().close();
  });

  it("starts, extends and stops the team's own instance, and says why when it cannot", async () => {
    const { page, problems } = await open("alpha", "web100,web200");
    await page.locator("#team-name", { hasText: "Team: alpha" }).waitFor();
    expect(page.url()).toBe(`${stack.url}/team`); // the token left the address bar
    const web100 = card(page, "web100");
    expect(await web100.locator(".state-line").textContent()).toBe("State: Not started");

    await web100.getByRole("button", { name: "Start" }).click();
    await web100.locator(".state-line", { hasText: "Running" }).waitFor({ timeout: 20_000 });
    const address = await web100.getByLabel("Address", { exact: true }).inputValue();
    const [row] = (await stack.request("GET", "/instances?team_id=alpha&state=running")).body.instances;
    expect(address).toBe(row.container_address);
    await expect.poll(() => web100.locator("time").textContent()).toMatch(/^(59m|1h 00m)/);
    await expect.poll(() => message(page)).toContain("web100 is running at");

    // The quota (TEAM_MAX_INSTANCES=1) in plain words.
    await card(page, "web200").getByRole("button", { name: "Start" }).click();
    await expect.poll(() => message(page)).toContain("quota is reached");

    // Copy: the address goes to the clipboard (or is selected for Ctrl+C where the clipboard is refused).
    await web100.getByRole("button", { name: "Copy address" }).click();
    await expect.poll(() => message(page)).toMatch(/Address of web100 copied|Address selected/);

    // By keyboard: Enter on Extend before renewal opens; the refusal redraws the card and focus stays on Extend.
    await web100.getByRole("button", { name: "Extend" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => message(page)).toMatch(/Renewal of web100 is not open yet/);
    await expect.poll(() => page.locator(":focus").getAttribute("aria-label")).toBe("Extend web100");

    // Renewal opens 5 s after the start: the card says when; a click before is refused with when, then granted.
    await expect
      .poll(() => web100.locator(".renewal").textContent())
      .toMatch(/^Extending is possible from .+ \(in \d+s\)\.$/);

    await web100.getByRole("button", { name: "Extend" }).click();
    await expect.poll(() => message(page)).toMatch(/Renewal of web100 is not open yet: it opens at/);
    const before = row.expires_at as string;
    // Wait for the moment the API gave for the renewal to open (a time, not a race).
    const opensIn = new Date(row.renewable_at).getTime() - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, opensIn + 250)));
    await web100.getByRole("button", { name: "Extend" }).click();
    await expect.poll(() => message(page)).toContain("web100 extended");
    await expect
      .poll(() => web100.locator(".renewal").textContent())
      .toMatch(/^Extending is possible from .+ \(in (1h 0\dm|59m \d\ds)\)\.$/); // about an hour on
    const after = (await stack.request("GET", `/instances/${row.instance_id}`)).body;
    expect(after.renewals).toBe(1);
    expect(new Date(after.expires_at).getTime()).toBeGreaterThan(new Date(before).getTime());

    await web100.getByRole("button", { name: "Stop" }).click();
    await expect
      .poll(async () => (await stack.request("GET", `/instances/${row.instance_id}`)).body.state, { timeout: 15_000 })
      .toBe("removed");
    await web100.getByRole("button", { name: "Start" }).waitFor({ timeout: 20_000 });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("shows another team nothing of it", async () => {
    const started = await stack.request("POST", "/assign", { body: { team_id: "alpha", challenge_id: "web100" } });
    expect(started.status).toBe(200);
    const { page } = await open("bravo", "web100");
    await page.locator("#team-name", { hasText: "Team: bravo" }).waitFor();
    await card(page, "web100").getByRole("button", { name: "Start" }).waitFor();
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).not.toContain(started.body.container_address);
    expect(text).not.toContain("alpha");
    expect(await page.getByLabel("Address", { exact: true }).count()).toBe(0);
    // Even a request made from bravo's page for alpha's instance is refused.
    const status = await page.evaluate(
      async ([id, token]) =>
        (await fetch(`/instances/${id}`, { headers: { authorization: `Bearer ${token}` } })).status,
      [started.body.instance_id as string, await teamToken("bravo")],
    );
    expect(status).toBe(403);
    await stack.request("POST", "/remove", { body: { team_id: "alpha", challenge_id: "web100" } });
    await page.context().close();
  });

  it("tells a team whose token expired or is missing what to do", async () => {
    const { page } = await openPage(browser);
    const expired = await teamToken("alpha", { expiresInSeconds: -60 });
    await page.goto(`${stack.url}/team#token=${expired}&challenges=web100`);
    await expect
      .poll(() => message(page))
      .toBe("Your session has expired: open this page again from the CTF platform.");
    const fresh = await page.context().newPage();
    await fresh.goto(`${stack.url}/team`);
    await expect
      .poll(() => fresh.locator("#message").textContent())
      .toBe("No team token: open this page from the CTF platform.");
    await page.context().close();
  });

  it("shows a TCP service as the command a player pastes", async () => {
    const spec = { image: WEB100.image, port: 80, protocol: "tcp", memory_mb: 64, cpus: 0.25, pids_limit: 64 };
    expect((await stack.request("PUT", "/challenges/nc100", { body: spec })).status).toBe(201);
    const { page, problems } = await open("delta", "nc100");
    const nc = card(page, "nc100");
    await nc.getByRole("button", { name: "Start" }).click();
    await nc.locator(".state-line", { hasText: "Running" }).waitFor({ timeout: 20_000 });
    const [row] = (await stack.request("GET", "/instances?team_id=delta&state=running")).body.instances;
    expect(await nc.getByLabel("Address", { exact: true }).inputValue()).toBe(row.endpoints[0].command);
    expect(row.endpoints[0].command).toMatch(/^nc \S+ \d+$/);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("shows an engine error with markup as text", async () => {
    const started = await stack.request("POST", "/assign", { body: { team_id: "charlie", challenge_id: "web100" } });
    expect(await transition(db, started.body.instance_id, ["running"], "failed", { error: MARKUP })).not.toBeNull();
    const { page, problems } = await open("charlie", "web100");
    const error = card(page, "web100").locator('[data-field="error"]');
    await expect.poll(() => error.textContent()).toBe(MARKUP);
    expect(await page.locator("b.injected").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
