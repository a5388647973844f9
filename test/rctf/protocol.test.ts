import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, deploymentContainers } from "../support/docker.ts";
import { TestStack, WEB100 } from "../support/stack.ts";
import { waitUntil } from "../support/wait.ts";
import { responseChecker } from "../api/openapi-check.ts";
import { forms, RCTF_TOKEN, RctfClient, type Details, type TeamChallenge } from "./rctf-client.ts";

const WINDOW_SECONDS = 900;
const MAX_LIFETIME_SECONDS = 14_400;

describe("rCTF's instancer protocol against the real API, PostgreSQL, Redis and Docker", () => {
  let stack: TestStack;
  let rctf: RctfClient;
  const documentProblems: string[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      env: {
        RCTF_AUTH_TOKEN: RCTF_TOKEN,
        TEAM_MAX_INSTANCES: "2",
        RENEW_WINDOW_SECONDS: String(WINDOW_SECONDS),
        MAX_LIFETIME_SECONDS: String(MAX_LIFETIME_SECONDS),
      },
    });
    for (const id of ["web200", "web300"]) {
      const put = await stack.request("PUT", `/challenges/${id}`, { body: { image: WEB100.image, port: 80 } });
      expect(put.status).toBe(201);
    }
    // rCTF's apiUrl, with the trailing slash an organiser may type: rCTF strips it.
    rctf = new RctfClient(`${stack.url}/rctf/`);
    // Every reply is also held to the family's operations in the served OpenAPI document.
    const doc = (await stack.request("GET", "/openapi.json", { token: null })).body;
    const check = responseChecker(doc);
    const call = rctf.call.bind(rctf);
    const methods = { status: "POST", start: "PUT", extend: "PATCH", stop: "DELETE" } as const;
    rctf.call = async (action, body) => {
      const res = await call(action, body);
      documentProblems.push(
        ...check(methods[action], `${stack.url}/rctf/v1/instances/`, {
          status: res.status,
          body: res.reply,
          headers: new Headers({ "content-type": "application/json", "x-request-id": "x" }),
        }),
      );
      return res;
    };
  });
  afterAll(async () => {
    await stack?.stop();
  });
  afterAll(() => {
    expect(rctf.problems, "replies outside rCTF's two shapes").toEqual([]);
    expect(documentProblems, "replies the OpenAPI document does not declare").toEqual([]);
  });

  const team = (challengeIntegrationId = "web100"): TeamChallenge => ({ teamId: randomUUID(), challengeIntegrationId });
  const liveRows = async (teamId: string) =>
    (
      await stack.api.deps.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM instances WHERE team_id = $1 AND state IN ('requested','starting','running','stopping')",
        [teamId],
      )
    ).rows[0]!.n;
  const expiresAt = async (who: TeamChallenge) =>
    (
      await stack.api.deps.db.query<{ expires_at: Date }>(
        "SELECT expires_at FROM instances WHERE team_id = $1 AND challenge_id = $2 AND state = 'running'",
        [who.teamId, who.challengeIntegrationId],
      )
    ).rows[0]!.expires_at;
  const runningDetails = (who: TeamChallenge) =>
    waitUntil(
      "instance running",
      async () => {
        const d = await rctf.details("status", forms.status(who));
        expect(d.status, "status while waiting").not.toBe("errored");
        return d.status === "running" ? d : null;
      },
      60_000,
    );
  const containerEnv = async (teamId: string) => {
    const [container] = (await deploymentContainers(stack.deployment)).filter(
      (c) => c.Labels["org.ctf-instancer.team-id"] === teamId,
    );
    const info = await docker.getContainer(container!.Id).inspect();
    const env = Object.fromEntries(
      info.Config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );
    return env as Record<string, string | undefined>;
  };

  it("status before start is stopped, with time and endpoints present and null", async () => {
    const who = team();
    const { status, reply } = await rctf.call("status", forms.status(who));
    expect(status).toBe(200);
    expect(reply).toEqual({
      kind: "instancerInstanceDetails",
      status: "stopped",
      timeLeftMilliseconds: null,
      endpoints: null,
    });
  });

  it("start answers starting at once, then runs with a reachable endpoint and the flags rCTF sent", async () => {
    const who = team();
    const dynamic = { provider: "flags/dynamic", flag: `rctf{dyn_${randomUUID()}}` };
    const statik = { provider: "flags/static", flag: "rctf{the_same_for_everyone}" };
    const flags = [dynamic, statik];

    const began = Date.now();
    const started = await rctf.details("start", forms.start(who, { flags, timeoutMilliseconds: 3_600_000 }));
    expect(started).toEqual({
      kind: "instancerInstanceDetails",
      status: "starting",
      timeLeftMilliseconds: null,
      endpoints: null,
    });
    expect(Date.now() - began, "start does not wait for the container").toBeLessThan(3000);

    const running = await runningDetails(who);
    expect(running.endpoints).toHaveLength(1);
    const [endpoint] = running.endpoints!;
    expect(endpoint).toMatchObject({ kind: "http", bypassExpose: true, title: "Instance" });
    // The lifetime is the platform's timeout, counted from when the instance began running.
    expect(running.timeLeftMilliseconds).toBeGreaterThan(3_600_000 - 60_000);
    expect(running.timeLeftMilliseconds).toBeLessThanOrEqual(3_600_000);

    // The endpoint serves this team's own copy, as rCTF's UI links it (http://host:port).
    const page = await fetch(`http://${endpoint!.host}:${endpoint!.port}/team.txt`);
    expect(page.status).toBe(200);
    expect((await page.text()).trim()).toBe(who.teamId);

    // The container carries the platform's flags: FLAG the first, FLAGS all of them.
    const env = await containerEnv(who.teamId);
    expect(env.FLAG).toBe(dynamic.flag);
    expect(env.FLAGS).toBe(JSON.stringify(flags));

    // A repeated start with the same flags converges on the same instance.
    const again = await rctf.details("start", forms.start(who, { flags }));
    expect(again).toMatchObject({ status: "running", endpoints: running.endpoints });
    expect(
      (await deploymentContainers(stack.deployment)).filter(
        (c) => c.Labels["org.ctf-instancer.team-id"] === who.teamId,
      ),
    ).toHaveLength(1);
    // Other flags for the live instance are refused, and nothing changes.
    const other = await rctf.error("start", forms.start(who, { flags: [{ ...dynamic, flag: "rctf{other}" }, statik] }));
    expect(other.message).toMatch(/other flags/);
    expect(await liveRows(who.teamId)).toBe(1);
  });

  it("racing starts of one team's instance converge on one instance", async () => {
    const who = team();
    const flags = [{ provider: "flags/dynamic", flag: `rctf{race_${randomUUID()}}` }];
    const replies = await Promise.all(Array.from({ length: 6 }, () => rctf.call("start", forms.start(who, { flags }))));
    for (const { reply } of replies) expect(reply).toMatchObject({ kind: "instancerInstanceDetails" });
    expect(await liveRows(who.teamId)).toBe(1);
    await runningDetails(who);
    expect(
      (await deploymentContainers(stack.deployment)).filter(
        (c) => c.Labels["org.ctf-instancer.team-id"] === who.teamId,
      ),
    ).toHaveLength(1);
  });

  it("only the per-team flag is recorded as the team's: /flags/verify knows it, a static flag makes no cheat", async () => {
    const a = team();
    const b = team();
    const statik = { provider: "flags/static", flag: "rctf{shared_by_all}" };
    const aFlag = { provider: "flags/dynamic", flag: `rctf{a_${randomUUID()}}` };
    const bFlag = { provider: "flags/dynamic", flag: `rctf{b_${randomUUID()}}` };
    await rctf.details("start", forms.start(a, { flags: [statik, aFlag] }));
    await rctf.details("start", forms.start(b, { flags: [statik, bFlag] }));
    const recorded = await stack.api.deps.db.query<{ team_id: string; flag: string }>(
      "SELECT team_id, flag FROM issued_flags WHERE team_id = ANY($1) ORDER BY flag",
      [[a.teamId, b.teamId]],
    );
    expect(recorded.rows).toEqual([
      { team_id: a.teamId, flag: aFlag.flag },
      { team_id: b.teamId, flag: bFlag.flag },
    ]);
    const verify = async (teamId: string, flag: string) =>
      (await stack.request("POST", "/flags/verify", { body: { team_id: teamId, challenge_id: "web100", flag } })).body;
    expect(await verify(a.teamId, aFlag.flag)).toEqual({ result: "correct" });
    expect(await verify(b.teamId, aFlag.flag)).toEqual({ result: "other_team" });
    expect(await verify(b.teamId, statik.flag)).toEqual({ result: "wrong" });
    // The instance carries the first flag rCTF sent, static or not.
    await runningDetails(a);
    expect((await containerEnv(a.teamId)).FLAG).toBe(statik.flag);
    // A per-team flag another team already holds is refused, and nothing is created.
    const c = team();
    const taken = await rctf.error("start", forms.start(c, { flags: [aFlag] }));
    expect(taken.message).toMatch(/another team/);
    expect(await liveRows(c.teamId)).toBe(0);
  });

  it("a timeout of 0 (rCTF's default when the organiser sets none) keeps the challenge's TTL", async () => {
    const who = team();
    await rctf.details("start", forms.start(who, { timeoutMilliseconds: 0 }));
    const running = await runningDetails(who);
    // The stack's DEFAULT_TTL_SECONDS, since web100 sets no ttl_seconds.
    expect(running.timeLeftMilliseconds).toBeGreaterThan(3_600_000 - 60_000);
    expect(running.timeLeftMilliseconds).toBeLessThanOrEqual(3_600_000);
  });

  it("an instance that fails to start reads errored, without internal detail; stop then answers stopped", async () => {
    const put = await stack.request("PUT", "/challenges/broken", {
      body: { image: "ctf-instancer/no-such-image:latest", port: 80 },
    });
    expect(put.status).toBe(201);
    const who = team("broken");
    expect((await rctf.details("start", forms.start(who))).status).toBe("starting");
    const errored = await waitUntil("instance errored", async () => {
      const d = await rctf.details("status", forms.status(who));
      return d.status === "errored" ? d : null;
    });
    expect(errored).toEqual({
      kind: "instancerInstanceDetails",
      status: "errored",
      timeLeftMilliseconds: null,
      endpoints: null,
    });
    // Stopping a failed instance has nothing to stop.
    expect((await rctf.details("stop", forms.stop(who))).status).toBe("stopped");
  });

  it("an early extend is refused, naming when extending opens", async () => {
    const who = team();
    await rctf.details("start", forms.start(who, { timeoutMilliseconds: 3_600_000 }));
    await runningDetails(who);
    const expiry = await expiresAt(who);
    const { status, message } = await rctf.error("extend", forms.extend(who, 3_600_000));
    expect(status).toBe(409);
    expect(message).toContain(new Date(expiry.getTime() - WINDOW_SECONDS * 1000).toISOString());
    expect(message).toMatch(/15 minutes before the instance expires/);
    expect(await expiresAt(who)).toEqual(expiry);
  });

  it("extend within the window means now + timeout, capped by MAX_LIFETIME_SECONDS", async () => {
    const who = team();
    await rctf.details("start", forms.start(who, { timeoutMilliseconds: 600_000 }));
    const running = await runningDetails(who);
    expect(running.timeLeftMilliseconds).toBeLessThanOrEqual(600_000);

    const before = Date.now();
    // Still within the window afterwards, so it can be extended again below.
    const extended = await rctf.details("extend", forms.extend(who, 800_000));
    expect(extended.status).toBe("running");
    expect(extended.timeLeftMilliseconds).toBeGreaterThan(800_000 - 5_000);
    expect(extended.timeLeftMilliseconds).toBeLessThanOrEqual(800_000);
    expect((await expiresAt(who)).getTime()).toBeGreaterThanOrEqual(before + 800_000 - 1000);

    // A timeout past the cap lands on the cap: start + MAX_LIFETIME_SECONDS.
    const capped = await rctf.details("extend", forms.extend(who, 30 * 86_400_000));
    const { rows } = await stack.api.deps.db.query<{ started_at: Date; expires_at: Date }>(
      "SELECT started_at, expires_at FROM instances WHERE team_id = $1 AND state = 'running'",
      [who.teamId],
    );
    expect(rows[0]!.expires_at.getTime()).toBe(rows[0]!.started_at.getTime() + MAX_LIFETIME_SECONDS * 1000);
    expect(capped.timeLeftMilliseconds).toBeLessThanOrEqual(MAX_LIFETIME_SECONDS * 1000);
    // At the cap, extending is refused as such.
    expect((await rctf.error("extend", forms.extend(who, 600_000))).message).toMatch(/maximum lifetime/);
  });

  it("a wrong token is refused and creates nothing", async () => {
    const who = team();
    const containersBefore = (await deploymentContainers(stack.deployment)).length;
    for (const [action, body] of [
      ["start", forms.start(who, { token: "not-the-token-0123456789" })],
      ["status", forms.status(who, "")],
      ["extend", forms.extend(who, 1000, RCTF_TOKEN.slice(0, -1))],
      ["stop", forms.stop(who, `${RCTF_TOKEN}x`)],
    ] as const) {
      const { status, message } = await rctf.error(action, body);
      expect(status).toBe(401);
      expect(message).toMatch(/token/);
    }
    const { status } = await rctf.error("start", { ...forms.start(who), rctfAuthToken: undefined });
    expect(status).toBe(401);
    expect(await liveRows(who.teamId)).toBe(0);
    expect((await deploymentContainers(stack.deployment)).length).toBe(containersBefore);
  });

  it("an unknown challengeIntegrationId, ours or rCTF's own fallback id, is refused", async () => {
    for (const id of ["no-such-challenge", "Baby Rev!", "", "8c6f2a1e-7b1d-4e7a-9a3e-5f0c2d1b4a99"]) {
      const who = team(id);
      for (const action of ["status", "start", "extend", "stop"] as const) {
        const body = action === "extend" ? forms.extend(who, 1000) : forms[action](who);
        const { status, message } = await rctf.error(action, body);
        expect(status).toBe(404);
        expect(message).toMatch(/not set up on the instancer/);
      }
      expect(await liveRows(who.teamId)).toBe(0);
    }
  });

  it("a team at its quota is refused another instance", async () => {
    const teamId = randomUUID();
    await rctf.details("start", forms.start({ teamId, challengeIntegrationId: "web100" }));
    await rctf.details("start", forms.start({ teamId, challengeIntegrationId: "web200" }));
    const { status, message } = await rctf.error("start", forms.start({ teamId, challengeIntegrationId: "web300" }));
    expect(status).toBe(409);
    expect(message).toMatch(/already runs 2 instance\(s\), the most it may/);
    expect(await liveRows(teamId)).toBe(2);
  });

  it("stop takes the instance away; a second stop answers stopped", async () => {
    const who = team();
    // rCTF's team id in upper case is the same team.
    await rctf.details("start", forms.start({ ...who, teamId: who.teamId.toUpperCase() }));
    await runningDetails(who);
    const stopping = await rctf.details("stop", forms.stop(who));
    expect(["stopping", "stopped"]).toContain(stopping.status);
    const stopped: Details = await waitUntil("instance stopped", async () => {
      const d = await rctf.details("status", forms.status(who));
      return d.status === "stopped" ? d : null;
    });
    expect(stopped).toEqual({
      kind: "instancerInstanceDetails",
      status: "stopped",
      timeLeftMilliseconds: null,
      endpoints: null,
    });
    expect(
      (await deploymentContainers(stack.deployment)).filter(
        (c) => c.Labels["org.ctf-instancer.team-id"] === who.teamId,
      ),
    ).toHaveLength(0);
    expect(await rctf.details("stop", forms.stop(who))).toEqual(stopped);
  });
});
