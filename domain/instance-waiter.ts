import pg from "pg";
import type { Db } from "../infra/db.ts";
import { getInstance, type InstanceRow } from "./instances.ts";
import type { Logger } from "../infra/logger.ts";

const FALLBACK_POLL_MS = 500;

/**
 * Waits on an instance's state in the database. A LISTEN connection on the `instance_state` channel (fed by a
 * trigger) wakes waiters at once; a slow poll covers a lost notification or a listener that is reconnecting.
 */
export class InstanceWaiter {
  private readonly db: Db;
  private readonly databaseUrl: string;
  private readonly logger: Logger;
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly changeListeners = new Set<(id: string | null) => void>();
  private client: pg.Client | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(db: Db, databaseUrl: string, logger: Logger) {
    this.db = db;
    this.databaseUrl = databaseUrl;
    this.logger = logger;
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 2000 });
    const reconnect = () => {
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (!this.closed && !this.retryTimer)
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.connect();
        }, 1000);
    };
    client.on("error", reconnect);
    client.on("end", reconnect);
    client.on("notification", (msg) => {
      const id = msg.payload?.split(" ")[0];
      if (id) this.wakers.get(id)?.forEach((wake) => wake());
      if (id) this.changeListeners.forEach((listener) => listener(id));
    });
    try {
      await client.connect();
      await client.query("LISTEN instance_state");
      this.client = client;
      // Changes made while no one listened were never announced: listeners reread everything.
      this.changeListeners.forEach((listener) => listener(null));
    } catch (err) {
      this.logger.debug({ err }, "instance listener not connected; polling meanwhile");
      reconnect();
    }
  }

  /**
   * Calls `listener` with the id of each instance whose state changes (the dashboard's stream), and with null once
   * the listening connection is back after a loss (changes meanwhile were missed); returns the undo.
   */
  onChange(listener: (id: string | null) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Re-reads the row whenever it changes until `done(row)` holds or `timeoutMs` passes; returns the last read. */
  async waitFor(id: string, done: (row: InstanceRow) => boolean, timeoutMs: number): Promise<InstanceRow | null> {
    const deadline = Date.now() + timeoutMs;
    let notified: boolean;
    let wake: (() => void) | null = null;
    const waker = () => {
      notified = true;
      wake?.();
    };
    let set = this.wakers.get(id);
    if (!set) this.wakers.set(id, (set = new Set()));
    set.add(waker);
    try {
      for (;;) {
        notified = false;
        const row = await getInstance(this.db, id);
        const left = deadline - Date.now();
        if (!row || done(row) || left <= 0) return row;
        if (!notified) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(left, FALLBACK_POLL_MS));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
      }
    } finally {
      set.delete(waker);
      if (set.size === 0) this.wakers.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
