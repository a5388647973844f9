import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortProber } from "../../worker/port-probe.ts";

// A port that serves, standing in for a host port the engine gave to another container once ours exited.
describe("port probe", () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((socket) => socket.write("hello"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const target = () => ({ direct: null, published: { host: "127.0.0.1", port } });

  it("an answer on the port does not count once the container has exited", async () => {
    const probe = new PortProber().waitForPort(target(), 2000, async () => "container exited (exit code 0)");
    await expect(probe).rejects.toThrow("container exited (exit code 0) before its port accepted connections");
  });

  it("an answer counts while the container runs", async () => {
    await expect(new PortProber().waitForPort(target(), 2000, async () => null)).resolves.toBeUndefined();
  });
});
