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

  const target = () => ({ direct: null, published: { host: "127.0.0.1", port }, http: false });

  it("an answer on the port does not count once the container has exited", async () => {
    const probe = new PortProber().waitForPort(target(), 2000, async () => "container exited (exit code 0)");
    await expect(probe).rejects.toThrow("container exited (exit code 0) before its port accepted connections");
  });

  it("an answer counts while the container runs", async () => {
    await expect(new PortProber().waitForPort(target(), 2000, async () => null)).resolves.toBeUndefined();
  });

  it("an http port is asked for its front page, and counts when it answers", async () => {
    const asked: string[] = [];
    const web = createServer((socket) =>
      socket.once("data", (d) => {
        asked.push(d.toString().split("\r\n")[0]!);
        socket.end("HTTP/1.0 200 OK\r\n\r\n");
      }),
    );
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    const published = { host: "127.0.0.1", port: (web.address() as { port: number }).port };
    try {
      await new PortProber().waitForPort({ direct: null, published, http: true }, 2000, async () => null);
      expect(asked).toEqual(["HEAD / HTTP/1.0"]);
    } finally {
      await new Promise((resolve) => web.close(resolve));
    }
  });

  it("a port that accepts and closes at once (a proxy with nothing behind it) is not served, http or not; the container is asked about once a second, not at every attempt", async () => {
    const proxy = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const published = { host: "127.0.0.1", port: (proxy.address() as { port: number }).port };
    try {
      for (const http of [false, true]) {
        let asked = 0;
        const alive = async () => {
          asked++;
          return null;
        };
        await expect(new PortProber().waitForPort({ direct: null, published, http }, 1500, alive)).rejects.toThrow(
          /port did not accept connections within 2 s/,
        );
        expect(asked).toBeLessThanOrEqual(3);
      }
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("a TCP service left at the default protocol, which closes on the http question, still counts: it is asked nothing after", async () => {
    const strict = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => strict.listen(0, "127.0.0.1", resolve));
    const published = { host: "127.0.0.1", port: (strict.address() as { port: number }).port };
    try {
      await expect(
        new PortProber().waitForPort({ direct: null, published, http: true }, 2000, async () => null),
      ).resolves.toBeUndefined();
    } finally {
      await new Promise((resolve) => strict.close(resolve));
    }
  });
});
