import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack } from "../support/stack.ts";
import { holdAnswersToDocument } from "./openapi-check.ts";

describe("challenge catalogue and instance listing", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false, assignWaitSeconds: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  holdAnswersToDocument(() => stack);

  it("PUT creates (201) then replaces (200); GET lists without env values; DELETE removes", async () => {
    const body = { image: "example/pwn:1", port: 1337, memory_mb: 128, env: { SECRET: "s3cret" } };
    const created = await stack.request("PUT", "/challenges/pwn200", { body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: "pwn200", port: 1337, memory_mb: 128, cpus: 0.5, env_keys: ["SECRET"] });
    const replaced = await stack.request("PUT", "/challenges/pwn200", { body: { ...body, port: 31337 } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.port).toBe(31337);
    const list = await stack.request("GET", "/challenges");
    expect(list.body.challenges.map((c: { id: string }) => c.id)).toEqual(["pwn200", "web100"]);
    expect(JSON.stringify(list.body)).not.toContain("s3cret");
    expect((await stack.request("DELETE", "/challenges/pwn200")).status).toBe(204);
    expect((await stack.request("GET", "/challenges")).body.challenges).toHaveLength(1);
  });

  it("GET /challenges and GET /challenges/{id} show every setting but env values", async () => {
    const body = {
      image: "example/full:1",
      port: 8080,
      memory_mb: 96,
      cpus: 0.25,
      pids_limit: 32,
      ttl_seconds: 600,
      env: { TOKEN: "hidden-value" },
      cap_add: ["NET_BIND_SERVICE"],
      read_only: true,
      egress: true,
      restart_on_exit: true,
    };
    expect((await stack.request("PUT", "/challenges/full", { body })).status).toBe(201);
    const { env: _env, ...settings } = body;
    const expected = { id: "full", ...settings, env_keys: ["TOKEN"], flag_format: null };
    const one = await stack.request("GET", "/challenges/full");
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject(expected);
    const listed = (await stack.request("GET", "/challenges")).body.challenges.find(
      (c: { id: string }) => c.id === "full",
    );
    expect(listed).toMatchObject(expected);
    expect(JSON.stringify([one.body, listed])).not.toContain("hidden-value");
    expect((await stack.request("GET", "/challenges/absent")).status).toBe(404);
    expect((await stack.request("DELETE", "/challenges/full")).status).toBe(204);
  });

  it("DELETE is refused with 409 while the challenge has a live instance", async () => {
    await stack.request("PUT", "/challenges/busy", { body: { image: "example/busy:1", port: 80 } });
    const assigned = await stack.request("POST", "/assign", { body: { team_id: "t1", challenge_id: "busy" } });
    expect(assigned.status).toBe(202);
    const refused = await stack.request("DELETE", "/challenges/busy");
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "conflict", details: { live_instances: 1 } });
  });

  it("GET /instances filters and paginates with a cursor", async () => {
    for (const team of ["p1", "p2", "p3", "p4", "p5"])
      expect((await stack.request("POST", "/assign", { body: { team_id: team, challenge_id: "web100" } })).status).toBe(
        202,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { instances: { team_id: string }[]; next_cursor: string | null } } = await stack.request(
        "GET",
        `/instances?challenge_id=web100&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...res.body.instances.map((i) => i.team_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(["p5", "p4", "p3", "p2", "p1"]);
    const one = await stack.request("GET", "/instances?team_id=p3");
    expect(one.body.instances).toHaveLength(1);
    const requested = await stack.request("GET", "/instances?state=running");
    expect(requested.body.instances).toHaveLength(0);
  });

  it("pagination loses no instance created within the same millisecond as a page's last", async () => {
    await stack.request("PUT", "/challenges/micro", { body: { image: "example/micro:1", port: 80 } });
    const inserted = await stack.api.deps.db.query(
      `INSERT INTO instances (team_id, challenge_id, request_id, state, created_at)
       SELECT 'm' || n, 'micro', 'r', 'failed', timestamptz '2026-01-01 00:00:00.123000+00' + n * interval '100 microseconds'
       FROM generate_series(1, 3) AS n RETURNING id`,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { instances: { instance_id: string }[]; next_cursor: string | null } } =
        await stack.request("GET", `/instances?challenge_id=micro&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.instances.map((i) => i.instance_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(inserted.rows.map((r: { id: string }) => r.id).sort());
  });
});
