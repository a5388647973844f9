import type Docker from "dockerode";
import type { Logger } from "../../infra/logger.ts";

export interface ContainerSelection {
  /** Container names, or compose service names within `composeProject` (v1 and v2 name containers differently). */
  names: string[];
  label?: string;
  composeProject?: string;
}

const bareName = (n: string) => n.replace(/^\//, "");

/** Running containers the restore must stop: the named ones in the given order, then the labelled ones by name. */
export async function runningTargets(docker: Docker, sel: ContainerSelection): Promise<string[]> {
  const running = await docker.listContainers({ filters: { status: ["running"] } });
  const nameOf = (c: Docker.ContainerInfo) => bareName(c.Names[0] ?? c.Id);
  const out: string[] = [];
  for (const wanted of sel.names) {
    const match = running.find(
      (c) =>
        nameOf(c) === wanted ||
        (sel.composeProject !== undefined &&
          c.Labels["com.docker.compose.project"] === sel.composeProject &&
          c.Labels["com.docker.compose.service"] === wanted),
    );
    if (match && !out.includes(nameOf(match))) out.push(nameOf(match));
  }
  if (sel.label) {
    const [key, value] = sel.label.split("=", 2) as [string, string | undefined];
    const labelled = running
      .filter((c) => (value === undefined ? key in c.Labels : c.Labels[key] === value))
      .map(nameOf)
      .sort();
    for (const n of labelled) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Stops all at once: they all go down anyway, and each second here is downtime. Order matters only at start. */
export async function stopContainers(docker: Docker, names: string[], timeoutS: number, log: Logger): Promise<void> {
  const stops = names.map(async (name) => {
    await docker
      .getContainer(name)
      .stop({ t: timeoutS })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 304) throw err; // 304: already stopped
      });
    log.info({ container: name }, "container stopped");
  });
  const failed = (await Promise.allSettled(stops)).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Brings back what a run stopped, plus RESTORE_START_CONTAINERS: the stopped containers that list does not name
 * start all at once (each second here is downtime), then the listed ones one after another, in the list's order,
 * each waited for (running, and healthy when it has a health check). Every container is attempted even if one
 * fails; the failures are returned.
 */
export async function restartContainers(
  docker: Docker,
  stopped: string[],
  ordered: string[],
  timeoutMs: number,
  log: Logger,
): Promise<string[]> {
  const together = stopped.filter((n) => !ordered.includes(n));
  const failures = (await Promise.all(together.map((n) => startOne(docker, n, timeoutMs, log)))).flat();
  for (const name of ordered) failures.push(...(await startOne(docker, name, timeoutMs, log)));
  return failures;
}

/** Starts one container and waits for it; returns its failure, if any. */
async function startOne(docker: Docker, name: string, timeoutMs: number, log: Logger): Promise<string[]> {
  try {
    const c = docker.getContainer(name);
    await c.start().catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304) throw err; // 304: already running
    });
    await waitRunning(c, timeoutMs);
    log.info({ container: name }, "container running");
    return [];
  } catch (err) {
    log.error({ container: name, err: (err as Error).message }, "container did not come back");
    return [`${name}: ${(err as Error).message}`];
  }
}

async function waitRunning(c: Docker.Container, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await c.inspect()).State;
    const health = s.Health?.Status;
    if (s.Running && (!health || health === "healthy")) return;
    if (Date.now() > deadline)
      throw new Error(
        `not ${s.Running ? "healthy" : "running"} after ${timeoutMs} ms (${s.Status}${health ? `, ${health}` : ""})`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
