import { connect } from "node:net";
import { isOnLink } from "./on-link.ts";

// Docker's userland proxy accepts on the published port even before the challenge listens, then closes at once.
// Through it, a connection counts only if the peer sends data or keeps it open for HOLD_MS. An http port is asked
// for its front page, so a server that answers counts at once; one that closes on the question (a TCP service
// whose protocol was left at its default) is asked nothing after that.
const HOLD_MS = 50;
const HTTP_ASK = "HEAD / HTTP/1.0\r\n\r\n";
const RETRY_MS = 50;
const DIRECT_TIMEOUT_MS = 300;

type DirectResult = "open" | "refused" | "unreachable";

function connectDirect(host: string, port: number, onConnect: () => void): Promise<DirectResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (result: DirectResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish("unreachable"), DIRECT_TIMEOUT_MS);
    socket.once("connect", () => {
      onConnect();
      finish("open");
    });
    socket.once("error", (err: NodeJS.ErrnoException) =>
      finish(err.code === "ECONNREFUSED" ? "refused" : "unreachable"),
    );
  });
}

/** served; closed: accepted, then closed with nothing said; no: not accepted. */
type HeldResult = "served" | "closed" | "no";

function connectAndHold(host: string, port: number, ask: boolean, onConnect: () => void): Promise<HeldResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    let accepted = false;
    const finish = (result: HeldResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish("no"), 2000);
    socket.once("connect", () => {
      clearTimeout(timer);
      accepted = true;
      onConnect();
      if (ask) socket.write(HTTP_ASK);
      setTimeout(() => finish("served"), HOLD_MS);
    });
    socket.once("data", () => finish("served"));
    socket.once("end", () => finish(accepted ? "closed" : "no"));
    socket.once("close", () => finish(accepted ? "closed" : "no"));
    socket.once("error", () => finish("no"));
  });
}

export interface ProbeTarget {
  /** The container's own address on its network: exact, when this process can route to it. */
  direct: { host: string; port: number } | null;
  /** Whether the port speaks HTTP (the exposure's protocol). */
  http: boolean;
  /** The published port, reachable wherever the worker runs. */
  published: { host: string; port: number };
}

/**
 * Decides when a challenge's port is really served. It asks the container directly when the container's network
 * is on this host (a worker on the engine's host; not one inside another Docker network, nor one beside a remote
 * engine) and otherwise goes through the published port; the first unreachable direct attempt switches this
 * prober to published ports for good.
 */
export class PortProber {
  private directUsable = true;

  /** `onConnect` runs when a connection is accepted, before it is known to count (the hold). */
  private async probeOnce(target: ProbeTarget, ask: boolean, onConnect: () => void): Promise<HeldResult> {
    if (this.directUsable && target.direct && isOnLink(target.direct.host)) {
      const result = await connectDirect(target.direct.host, target.direct.port, onConnect);
      if (result !== "unreachable") return result === "open" ? "served" : "no";
      this.directUsable = false;
    }
    return connectAndHold(target.published.host, target.published.port, ask, onConnect);
  }

  /**
   * Resolves once the port is served by this container; `alive` is polled about once a second so a container
   * that exited fails fast with its reason, and asked again after an answer. Rejects with a message when the
   * deadline passes.
   */
  async waitForPort(target: ProbeTarget, timeoutMs: number, alive: () => Promise<string | null>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastAliveCheck = 0;
    const checkDue = () => Date.now() - lastAliveCheck > 1000;
    let ask = target.http;
    for (;;) {
      // A container that exited freed its host port, which another container may have been given at once: an
      // answer counts only if this container still runs after it (while it runs, the port is its own). The
      // question is put when the connection is accepted, so it overlaps the hold, unless one was put in the
      // last second (a proxy accepts every attempt): then it is put after the answer.
      const check: { exited?: Promise<string | null> } = {};
      const put = () => {
        lastAliveCheck = Date.now();
        check.exited = alive();
        check.exited.catch(() => {}); // awaited below, or dropped when the attempt neither counts nor fails
      };
      const result = await this.probeOnce(target, ask, () => {
        if (checkDue()) put();
      });
      if (result === "served") {
        const exited = await (check.exited ?? alive());
        if (exited) throw new Error(`${exited} before its port accepted connections`);
        return;
      }
      if (result === "closed") ask = false;
      if (!check.exited && checkDue()) put();
      const exited = await check.exited;
      if (exited) throw new Error(`${exited} before its port accepted connections`);
      if (Date.now() >= deadline)
        throw new Error(`port did not accept connections within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
