import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transition } from "../../domain/instances.ts";
import { createDb, type Db } from "../../infra/db.ts";
import { TEST_TOKEN, TestStack, WEB100 } from "../support/stack.ts";
import { TEAM_TOKEN_SECRET, teamToken } from "../support/team-token.ts";
import { launchBrowser, MARKUP, openPage } from "./browser.ts";

describe("the organiser's dashboard in a real browser", () => {
  let stack: TestStack;
  let browser: Browser;
  let db: Db;
  beforeAll(async () => {
    [stack, browser] = await Promise.all([TestStack.start({ env: { TEAM_TOKEN_SECRET } }), launchBrowser()]);
    db = createDb(stack.db.url, { max: 2 });
  });
  afterAll(async () => {
    await browser?.close();
    await db?.end();
    await stack?.stop();
  });

  it("serves the page with a CSP without unsafe-inline, no framing and no sniffing", async () => {
    const res = await fetch(`${stack.url}/admin`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    // Nothing inline for the CSP to refuse: no script body, no style element or attribute, no event handler.
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it("refuses a wrong token and a team token at sign-in", async () => {
    const { page } = await openPage(browser);
    await page.goto(`${stack.url}/admin`);
    await page.getByLabel("Admin token").fill("not-the-right-token-0123456789");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#sign-in-error").textContent()).toContain("not accepted");
    await page.getByLabel("Admin token").fill(await teamToken("alpha"));
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#sign-in-error").textContent()).toContain("team token");
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
    await page.context().close();
  });

  it("shows an instance assigned over HTTP live, removes it with a confirmation, and keeps markup as text", async () => {
    const { page, problems } = await openPage(browser);
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${stack.url}/admin`);
    // Keyboard only: type the token and press Enter.
    await page.getByLabel("Admin token").fill(TEST_TOKEN);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#live-status").textContent()).toBe("Live: connected");
    expect(page.url()).toBe(`${stack.url}/admin`);
    expect(requests.some((u) => u.includes(TEST_TOKEN))).toBe(false);

    // An assign made outside the page (as curl would) appears without any action of the page's.
    const assigned = await stack.request("POST", "/assign", { body: { team_id: "alpha", challenge_id: "web100" } });
    expect(assigned.status).toBe(200);
    const id = assigned.body.instance_id as string;
    const row = page.locator(`tr[data-instance-id="${id}"]`);
    await row.locator('td[data-col="state"]', { hasText: "Running" }).waitFor({ timeout: 10_000 });
    expect(await row.locator('td[data-col="address"]').textContent()).toBe(assigned.body.container_address);
    expect(await row.locator('td[data-col="team"]').textContent()).toBe("alpha");
    await expect.poll(() => page.locator("#capacity-text").textContent()).toMatch(/^1 of 500 live instances/);
    const polled = requests.filter((u) => /\/instances(\/|\?|$)/.test(new URL(u).pathname + new URL(u).search));
    expect(polled, "the table is fed by the event stream, not by polling").toEqual([]);

    // Filters: another team's name hides the row; the state filter finds it again.
    await page.getByLabel("Team", { exact: true }).fill("bravo");
    expect(await row.count()).toBe(0);
    await page.getByLabel("Team", { exact: true }).fill("");
    await page.getByLabel("State").selectOption("running");
    expect(await row.count()).toBe(1);

    // Sorting: a column header is a button; the order is announced through aria-sort.
    const teamHeader = page.locator('th[data-sort="team_id"]');
    await teamHeader.getByRole("button").click();
    expect(await teamHeader.getAttribute("aria-sort")).toBe("ascending");
    await teamHeader.getByRole("button").press("Enter");
    expect(await teamHeader.getAttribute("aria-sort")).toBe("descending");

    // Extend goes through the renewal rules; the refusal is shown with the API's reason. Escape cancels first.
    await row.getByRole("button", { name: "Extend web100 of team alpha" }).click();
    await page.keyboard.press("Escape");
    expect(await page.getByRole("dialog").isVisible()).toBe(false);
    await row.getByRole("button", { name: "Extend web100 of team alpha" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Extend" }).click();
    await expect.poll(() => page.locator("#action-message").textContent()).toMatch(/^extend refused: renewal opens at/);
    expect((await stack.request("GET", `/instances/${id}`)).body.renewals).toBe(0);

    // Remove from the dashboard: a confirmation first; cancelling changes nothing.
    await row.getByRole("button", { name: "Remove web100 of team alpha" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    expect((await stack.request("GET", `/instances/${id}`)).body.state).toBe("running");
    await row.getByRole("button", { name: "Remove web100 of team alpha" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
    await page.getByLabel("State").selectOption("");
    await row.locator('td[data-col="state"]', { hasText: "Removed" }).waitFor({ timeout: 15_000 });
    expect((await stack.request("GET", `/instances/${id}`)).body.state).toBe("removed");

    // An engine error with markup in it, recorded on a row: the page shows the characters, runs nothing.
    const failing = await stack.request("POST", "/assign", {
      headers: { prefer: "respond-async" },
      body: { team_id: "charlie", challenge_id: "web100" },
    });
    const failedId = failing.body.instance_id as string;
    // Wait until the worker has it running, then fail it the way the worker records an engine error.
    await page
      .locator(`tr[data-instance-id="${failedId}"] td[data-col="state"]`, { hasText: "Running" })
      .waitFor({ timeout: 15_000 });
    expect(await transition(db, failedId, ["running"], "failed", { error: MARKUP })).not.toBeNull();
    const errorCell = page.locator(`tr[data-instance-id="${failedId}"] td[data-col="error"]`);
    await expect.poll(() => errorCell.textContent(), { timeout: 10_000 }).toBe(MARKUP);
    expect(await page.locator("b.injected").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(problems, "console errors (a CSP violation shows here)").toEqual([]);
    await page.context().close();
  });

  it("removes every live instance of a challenge after a confirmation", async () => {
    const spec = { image: WEB100.image, port: 80, memory_mb: 64, cpus: 0.25, pids_limit: 64 };
    expect((await stack.request("PUT", "/challenges/web200", { body: spec })).status).toBe(201);
    for (const team of ["delta", "echo"])
      expect((await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: "web200" } })).status).toBe(
        200,
      );
    const { page } = await openPage(browser);
    await page.goto(`${stack.url}/admin`);
    await page.getByLabel("Admin token").fill(TEST_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    const challengeRow = page.locator('#challenges tr[data-challenge="web200"]');
    await expect.poll(() => challengeRow.locator("td").first().textContent()).toBe("2");
    await challengeRow.getByRole("button", { name: "Remove all live instances of web200" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove all" }).click();
    await expect.poll(() => page.locator("#action-message").textContent()).toContain("Removing 2 instance(s)");
    await expect
      .poll(async () => (await stack.request("GET", "/instances?state=removed&challenge_id=web200")).body.instances, {
        timeout: 15_000,
      })
      .toHaveLength(2);
    await expect.poll(() => challengeRow.getByRole("button").count(), { timeout: 10_000 }).toBe(0);
    await page.context().close();
  });
});
