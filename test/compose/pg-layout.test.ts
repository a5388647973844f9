// docs/compose.md's in-place move of a PostgreSQL volume from the old mount (/var/lib/postgresql/data) to the 18
// layout (/var/lib/postgresql with PGDATA=/var/lib/postgresql/data/pgdata), run exactly as the guide prints it:
// the data written in the old layout is there after the move, for both old PGDATA conventions.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, run } from "./support.ts";
import { must, prepareImages } from "./stack.ts";

const IMAGE = "postgres:18";
const tag = randomBytes(4).toString("hex");
const label = `org.ctf-instancer.test=pg-layout-${tag}`;
const volumes: string[] = [];

/** The shell snippet of the guide's in-place move, for one volume. */
function moveScript(volume: string): string {
  const guide = readFileSync(join(ROOT, "docs/compose.md"), "utf8");
  const block = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes("PG_VERSION"));
  if (!block) throw new Error("docs/compose.md has no layout move snippet");
  return block.replaceAll("ctf_instancer_pgdata", volume);
}

async function startPostgres(volume: string, mount: string, pgdata: string): Promise<string> {
  const id = must(
    await run("docker", [
      "run",
      "-d",
      "--label",
      label,
      "-v",
      `${volume}:${mount}`,
      "-e",
      "POSTGRES_USER=ctf_instancer",
      "-e",
      "POSTGRES_PASSWORD=layout-test",
      "-e",
      "POSTGRES_DB=ctf_instancer",
      "-e",
      `PGDATA=${pgdata}`,
      IMAGE,
    ]),
    "docker run postgres",
  ).stdout.trim();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ready = await run("docker", ["exec", id, "pg_isready", "-q", "-h", "127.0.0.1", "-U", "ctf_instancer"]);
    if (ready.code === 0) return id;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`PostgreSQL did not become ready:\n${(await run("docker", ["logs", id])).stderr.slice(-3000)}`);
}

async function psql(id: string, sql: string): Promise<string> {
  return must(
    await run("docker", ["exec", id, "psql", "-U", "ctf_instancer", "-d", "ctf_instancer", "-tAc", sql]),
    `psql ${sql}`,
  ).stdout.trim();
}

async function stop(id: string): Promise<void> {
  must(await run("docker", ["stop", "-t", "30", id]), "docker stop");
  must(await run("docker", ["rm", "-v", id]), "docker rm");
}

beforeAll(() => prepareImages(), 20 * 60_000);

afterAll(async () => {
  const ids = (await run("docker", ["ps", "-aq", "--filter", `label=${label}`])).stdout.split("\n").filter(Boolean);
  for (const id of ids) await run("docker", ["rm", "-f", "-v", id]);
  for (const volume of volumes) await run("docker", ["volume", "rm", "-f", volume]);
}, 120_000);

describe("moving a PostgreSQL volume to the 18 layout in place", () => {
  it.each([
    ["the cluster at the volume root", "/var/lib/postgresql/data"],
    ["the cluster in pgdata/", "/var/lib/postgresql/data/pgdata"],
  ])(
    "keeps the data of %s",
    async (_what, oldPgdata) => {
      const volume = `ctfi_pglayout_${tag}_${volumes.length}`;
      volumes.push(volume);
      must(await run("docker", ["volume", "create", volume]), "volume create");

      const old = await startPostgres(volume, "/var/lib/postgresql/data", oldPgdata);
      await psql(old, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before the move')");
      await stop(old);

      const moved = await run("bash", ["-ec", moveScript(volume)], { timeoutMs: 120_000 });
      expect(moved.code, moved.stderr).toBe(0);

      const current = await startPostgres(volume, "/var/lib/postgresql", "/var/lib/postgresql/data/pgdata");
      expect(await psql(current, "SELECT v FROM kept")).toBe("before the move");
      await stop(current);
    },
    180_000,
  );
});
