import type Docker from "dockerode";
import type { Logger } from "../../infra/logger.ts";
import { LABEL } from "./labels.ts";

const RECONNECT_MS = 1000;

interface DockerEvent {
  Type?: string;
  Action?: string;
  time?: number;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Follows the engine's `die` events for this deployment's containers. When the stream breaks (the engine
 * restarted, the socket went away) it reconnects with `since` set to the last event seen, and calls
 * `onReconnect` so a full reconciliation covers whatever the gap hid.
 */
export class DockerEventWatcher {
  private since = Math.floor(Date.now() / 1000);
  private stream: NodeJS.ReadableStream | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly docker: Docker;
  private readonly deployment: string;
  private readonly logger: Logger;
  private readonly onDie: (instanceId: string, exitCode: string) => Promise<void>;
  private readonly onReconnect: () => Promise<unknown>;

  constructor(opts: {
    docker: Docker;
    deployment: string;
    logger: Logger;
    onDie: (instanceId: string, exitCode: string) => Promise<void>;
    onReconnect: () => Promise<unknown>;
  }) {
    this.docker = opts.docker;
    this.deployment = opts.deployment;
    this.logger = opts.logger;
    this.onDie = opts.onDie;
    this.onReconnect = opts.onReconnect;
  }

  async start(): Promise<void> {
    await this.connect(false);
  }

  private async connect(isReconnect: boolean): Promise<void> {
    if (this.closed) return;
    try {
      const stream = (await this.docker.getEvents({
        since: this.since,
        filters: { type: ["container"], event: ["die"], label: [`${LABEL.deployment}=${this.deployment}`] },
      })) as NodeJS.ReadableStream;
      this.stream = stream;
      let buffered = "";
      stream.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) this.handle(line);
        }
      });
      const broken = () => {
        if (this.stream === stream) this.stream = null;
        this.scheduleReconnect();
      };
      stream.once("end", broken);
      stream.once("error", broken);
      if (isReconnect) {
        this.logger.info({ since: this.since }, "docker events resumed");
        await this.onReconnect().catch((err: unknown) => this.logger.warn({ err }, "reconcile after reconnect failed"));
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "docker events unavailable; retrying");
      this.scheduleReconnect();
    }
  }

  private handle(line: string): void {
    let event: DockerEvent;
    try {
      event = JSON.parse(line) as DockerEvent;
    } catch {
      return;
    }
    if (event.time) this.since = Math.max(this.since, event.time);
    const attrs = event.Actor?.Attributes ?? {};
    const instanceId = attrs[LABEL.instanceId];
    if (event.Action !== "die" || !instanceId) return;
    this.onDie(instanceId, attrs.exitCode ?? "?").catch((err: unknown) =>
      this.logger.warn({ err, instanceId }, "handling a container death failed; the reconciler will retry"),
    );
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect(true);
    }, RECONNECT_MS);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const stream = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    stream?.destroy?.();
    this.stream = null;
  }
}
