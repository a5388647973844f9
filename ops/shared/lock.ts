import { hostname } from "node:os";
import { link, readFile, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { processStartTime } from "./process-identity.ts";

/** Another ops run (backup or restore) holds the shared lock. */
export class LockBusyError extends Error {
  override name = "LockBusyError";
  readonly holder: string;
  constructor(file: string, holder: string) {
    super(`${file} is held by ${holder}`);
    this.holder = holder;
  }
}

export interface OpsLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** A lock whose heartbeat is older than this belongs to a process that died (containers share no pid space). */
  staleMs?: number;
  heartbeatMs?: number;
}

/**
 * Whether the holder recorded in a lock is known to be gone: it ran on this host (a container keeps its host name
 * across restarts) and its pid is no longer that process (not running, or started at another time: a restarted
 * container hands out the same pids again). A holder on another host cannot be checked: only staleness tells. So
 * each container that takes the lock needs a host name of its own (Compose's default, the container id; not
 * `network_mode: host`, where they would share the machine's).
 */
export async function holderIsGone(holder: string): Promise<boolean> {
  const m = / pid (\d+)(?: start (\d+))? on (\S+) since /.exec(holder);
  if (!m || m[3] !== hostname()) return false;
  const pid = Number(m[1]);
  const started = await processStartTime(pid);
  if (started === null) return true;
  return m[2] !== undefined && m[2] !== started;
}

/**
 * One lock file on the shared backups volume serialises backups and restores across containers. Created
 * exclusively, holder included; the holder touches it periodically so a crashed holder's lock can be taken over
 * once stale, or at once when its holder is known to be gone (a crash or kill on this host).
 */
export async function acquireLock(file: string, owner: string, opts: LockOptions = {}): Promise<OpsLock> {
  const staleMs = opts.staleMs ?? 120_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1000, Math.floor(staleMs / 4));
  const start = (await processStartTime(process.pid)) ?? "0";
  const holder = `${owner} pid ${process.pid} start ${start} on ${hostname()} since ${new Date().toISOString()}`;
  if (!(await tryCreate(file, holder))) {
    const info = await stat(file).catch(() => null);
    const current = await readHolder(file);
    const fresh = info !== null && Date.now() - info.mtimeMs <= staleMs;
    if (fresh && !(await holderIsGone(current))) throw new LockBusyError(file, current);
    // Another contender may have replaced it meanwhile: only the lock judged above is moved.
    if ((await readHolder(file)) !== current) throw new LockBusyError(file, await readHolder(file));
    // Stale or orphaned: move it aside (only one contender's rename succeeds), then retry the exclusive create once.
    const aside = `${file}.stale-${process.pid}-${Date.now()}`;
    if (
      await rename(file, aside).then(
        () => true,
        () => false,
      )
    )
      await unlink(aside).catch(() => {});
    if (!(await tryCreate(file, holder))) throw new LockBusyError(file, await readHolder(file));
  }
  const timer = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => {});
  }, heartbeatMs);
  timer.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // Only remove the file if it is still ours (a stale takeover may have replaced it).
      if ((await readHolder(file)) === holder) await unlink(file).catch(() => {});
    },
  };
}

async function readHolder(file: string): Promise<string> {
  return readFile(file, "utf8").catch(() => "an unknown holder");
}

/**
 * The lock appears with its holder already in it: written to a file of this process's own, then linked into place
 * (a link, like O_EXCL, fails when the name exists). A lock created empty and filled after would, if the process
 * died in between, name no holder that could be found gone, and block every run until it went stale.
 */
async function tryCreate(file: string, holder: string): Promise<boolean> {
  const draft = `${file}.${process.pid}.draft`;
  await writeFile(draft, holder, { mode: 0o644 });
  try {
    await link(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(draft).catch(() => {});
  }
}

/**
 * Waits for the lock with a deadline, for a run that must happen but may wait its turn (a restore). `onWait` hears
 * of each new holder it waits for, so a wait is never silent.
 */
export async function acquireLockWaiting(
  file: string,
  owner: string,
  timeoutMs: number,
  opts: LockOptions & { pollMs?: number; onWait?: (holder: string) => void } = {},
): Promise<OpsLock> {
  const deadline = Date.now() + timeoutMs;
  let waitingFor = "";
  for (;;) {
    try {
      return await acquireLock(file, owner, opts);
    } catch (err) {
      if (!(err instanceof LockBusyError) || Date.now() > deadline) throw err;
      if (err.holder !== waitingFor) opts.onWait?.(err.holder);
      waitingFor = err.holder;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  }
}
