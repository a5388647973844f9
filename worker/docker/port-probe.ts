import { connect } from "node:net";

// Docker's userland proxy accepts on the host port even before the challenge listens, then closes at once.
// So a connection counts as "accepted" only if the peer sends data or keeps it open for this long.
const HOLD_MS = 150;
const RETRY_MS = 100;

function probeOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 2000);
    socket.once("connect", () => {
      clearTimeout(timer);
      setTimeout(() => finish(true), HOLD_MS);
    });
    socket.once("data", () => finish(true));
    socket.once("end", () => finish(false));
    socket.once("close", () => finish(false));
    socket.once("error", () => finish(false));
  });
}

/**
 * Resolves once `host:port` accepts a connection that is really served; `alive` is polled between attempts so a
 * container that exited fails fast with its reason. Rejects with a message when the deadline passes.
 */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  alive: () => Promise<string | null>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastAliveCheck = 0;
  for (;;) {
    if (await probeOnce(host, port)) return;
    if (Date.now() - lastAliveCheck > 1000) {
      lastAliveCheck = Date.now();
      const exited = await alive();
      if (exited) throw new Error(`${exited} before its port accepted connections`);
    }
    if (Date.now() >= deadline)
      throw new Error(`port did not accept connections within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}
