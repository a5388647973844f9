// Writes docs/dashboard.png and docs/team-page.png: a real stack (the test services) with a few teams' instances,
// one challenge whose image is missing (failures in the plot), a backup and a restore on disk, shown in chromium.
//   TEST_…=… bash scripts/with-services.sh node scripts/screenshots.ts
import { mkdtemp, mkdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildWeb } from "../web/build.ts";
import { TEST_TOKEN, TestStack, WEB100 } from "../test/support/stack.ts";
import { TEAM_TOKEN_SECRET, teamToken } from "../test/support/team-token.ts";

const docs = new URL("../docs/", import.meta.url);
const backups = await mkdtemp(join(tmpdir(), "ctfi-shots-"));
const hourAgo = new Date(Date.now() - 3600_000);
const name = `ctf-${hourAgo.toISOString().replace(/[-:]/g, "")}.dump`;
await writeFile(join(backups, name), "backup");
await writeFile(join(backups, `${name}.manifest.json`), "{}");
await utimes(join(backups, `${name}.manifest.json`), hourAgo, hourAgo); // the dashboard ages a backup by its manifest
await mkdir(join(backups, "restore", "processed"), { recursive: true });
await writeFile(
  join(backups, "restore", "processed", `x-${name}.result.json`),
  JSON.stringify({ file: name, status: "ok", finishedAt: new Date(Date.now() - 86400_000).toISOString() }),
);

await buildWeb();
const stack = await TestStack.start({
  env: {
    TEAM_TOKEN_SECRET,
    BACKUP_DIR: backups,
    MAINTENANCE_FLAG_FILE: join(backups, "maintenance.on"),
    MAX_LIVE_INSTANCES: "40",
  },
});
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
try {
  const spec = { image: WEB100.image, port: 80, memory_mb: 64, cpus: 0.25, pids_limit: 64 };
  await stack.request("PUT", "/challenges/crypto300", { body: spec });
  await stack.request("PUT", "/challenges/pwn200", { body: { ...spec, image: "ctf-instancer/missing:1" } });
  const assign = (team_id: string, challenge_id: string) =>
    stack.request("POST", "/assign", { body: { team_id, challenge_id } });
  await Promise.all(["alpha", "bravo", "charlie", "delta", "echo"].map((t) => assign(t, "web100")));
  await Promise.all(["alpha", "delta"].map((t) => assign(t, "crypto300")));
  for (const t of ["bravo", "foxtrot", "golf"]) await assign(t, "pwn200");
  await stack.request("POST", "/remove", { body: { team_id: "echo", challenge_id: "web100" } });

  const admin = await browser.newPage({ viewport: { width: 1280, height: 1350 } });
  await admin.goto(`${stack.url}/admin`);
  await admin.getByLabel("Admin token").fill(TEST_TOKEN);
  await admin.getByRole("button", { name: "Sign in" }).click();
  await admin.locator("#live-status", { hasText: "Live: connected" }).waitFor();
  await admin.locator('#instances tr[data-state="running"]').first().waitFor();
  await admin.screenshot({ path: new URL("dashboard.png", docs).pathname, fullPage: true });

  const team = await browser.newPage({ viewport: { width: 1000, height: 560 } });
  await team.goto(`${stack.url}/team#token=${await teamToken("alpha")}&challenges=web100,crypto300,pwn200`);
  await team.locator('li[data-challenge="web100"] input').waitFor();
  await team.screenshot({ path: new URL("team-page.png", docs).pathname, fullPage: true });
} finally {
  await browser.close();
  await stack.stop();
  await rm(backups, { recursive: true, force: true });
}
