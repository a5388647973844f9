import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestGateway } from "../gateway/support/gateway.ts";
import { readStream } from "../support/sse.ts";
import { TestStack } from "../support/stack.ts";

describe("the pages and the event stream behind the gateway's nginx", () => {
  let stack: TestStack;
  let gw: TestGateway;
  beforeAll(async () => {
    stack = await TestStack.start({ worker: false, assignWaitSeconds: 0 });
    gw = await TestGateway.start({ upstreamPort: Number(new URL(stack.url).port) });
  });
  afterAll(async () => {
    await gw?.stop();
    await stack?.stop();
  });

  it("passes the pages' security headers through", async () => {
    const res = await fetch(gw.url("/admin"), { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const script = await fetch(gw.url("/assets/admin.js"));
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
  });

  it("delivers each event through the gateway as it happens", async () => {
    let id = "";
    let assignedAt = 0;
    const { events } = await readStream(
      gw.url("/admin/events"),
      (event, data) => event === "instance" && data.instance_id === id,
      async () => {
        assignedAt = performance.now();
        id = (await stack.request("POST", "/assign", { body: { team_id: "tango", challenge_id: "web100" } })).body
          .instance_id;
      },
    );
    // Held back anywhere on the way, the event would come with the next summary, 10 s later.
    expect(performance.now() - assignedAt).toBeLessThan(5000);
    expect(events.at(-1)!.data.team_id).toBe("tango");
  });
});
