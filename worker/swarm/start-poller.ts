import type Docker from "dockerode";
import { PermanentStartError } from "../engine/engine.ts";
import { isNotFound } from "../docker/errors.ts";
import { newestTask, nodesById, type SwarmNode, type SwarmTask } from "./tasks.ts";

const TICK_MS = 25;
/** A manager that does not answer a listing in this long fails the starts waiting on it, which are retried. */
const LOOK_TIMEOUT_MS = 10_000;
/** A node going down mid-start is seen within this; nodes are marked down 10–15 s after they stop anyway. */
const NODES_MAX_AGE_MS = 1000;

export interface StartLook {
  task: SwarmTask | null;
  node: SwarmNode | undefined;
}

type Waiter = { resolve: (look: StartLook) => void; reject: (err: unknown) => void };

/**
 * Watches the tasks of services being started. The manager has no task events on the supported engines and learns
 * a task's state on its dispatcher's 100 ms ticks, so a start is seen by polling; one listing per tick serves every
 * start waiting at that moment, and the node list is read at most once a second, so a burst of starts costs the
 * manager what one start does.
 */
export class StartPoller {
  private readonly docker: Docker;
  private readonly waiting = new Map<string, Waiter[]>();
  private timer: NodeJS.Timeout | null = null;
  private nodes = new Map<string, SwarmNode>();
  private nodesReadAt = 0;

  constructor(docker: Docker) {
    this.docker = docker;
  }

  /** The service's newest task and its node, as the next tick sees them. */
  next(serviceId: string): Promise<StartLook> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(serviceId) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(serviceId, list);
      this.timer ??= setTimeout(() => void this.tick(), TICK_MS);
    });
  }

  private async tick(): Promise<void> {
    const batch = new Map(this.waiting);
    this.waiting.clear();
    try {
      await withTimeout(this.look(batch), LOOK_TIMEOUT_MS);
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    } finally {
      this.timer = this.waiting.size > 0 ? setTimeout(() => void this.tick(), TICK_MS) : null;
    }
  }

  private async look(batch: Map<string, Waiter[]>): Promise<void> {
    const ids = [...batch.keys()];
    let tasks: SwarmTask[];
    try {
      tasks = (await this.docker.listTasks({ filters: { service: ids } })) as SwarmTask[];
    } catch (err) {
      // The manager refuses the whole listing when one service is gone (removed mid-start): each is asked alone,
      // so only that start fails.
      if (!isNotFound(err)) throw err;
      if (ids.length === 1) throw new PermanentStartError("the service was removed while it started");
      for (const [id, waiters] of batch) {
        const one = new Map([[id, waiters]]);
        await this.look(one).catch((e: unknown) => waiters.forEach((w) => w.reject(e)));
      }
      return;
    }
    const nodes = await this.currentNodes(tasks);
    for (const [serviceId, waiters] of batch) {
      const task = newestTask(tasks.filter((t) => t.ServiceID === serviceId));
      const look = { task, node: task?.NodeID ? nodes.get(task.NodeID) : undefined };
      for (const w of waiters) w.resolve(look);
    }
  }

  /** The node list, read again when it is old or a task names a node it lacks. */
  private async currentNodes(tasks: SwarmTask[]): Promise<Map<string, SwarmNode>> {
    const unknown = tasks.some((t) => t.NodeID && !this.nodes.has(t.NodeID));
    if (unknown || Date.now() - this.nodesReadAt > NODES_MAX_AGE_MS) {
      this.nodes = await nodesById(this.docker);
      this.nodesReadAt = Date.now();
    }
    return this.nodes;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the swarm manager did not list tasks within ${ms / 1000}s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
