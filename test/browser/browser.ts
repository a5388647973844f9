// A real browser for the page tests: Debian's chromium (installed by scripts/test-services.sh) driven by
// playwright-core. The pages are built before the run (test/browser/build-pages.ts, vitest.config.ts).
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/**
 * A page that records what the console and the CSP report (a blocked inline script or style is a console error),
 * so a test can check the page ran clean.
 */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (msg) => {
    // A refusal the page explains (409, 429, 403) is logged by the browser too; it is not a fault of the page.
    if (msg.type() === "error" && !/^Failed to load resource: the server responded with a status of 4/.test(msg.text()))
      problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  return { page, problems };
}

/** A value with markup in it: shown as text it is harmless; parsed as HTML it would set window.__pwned. */
export const MARKUP = `<img src=x onerror="window.__pwned=1"><b class="injected">bold</b><script>window.__pwned=2</script>`;
