import { hostname } from "node:os";
import { open, readFile, rename, stat, unlink, utimes } from "node:fs/promises";

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
 * One lock file on the shared backups volume serialises backups and restores across containers. Created with
 * O_EXCL; the holder touches it periodically so a crashed holder's lock can be taken over once stale.
 */
export async function acquireLock(file: string, owner: string, opts: LockOptions = {}): Promise<OpsLock> {
  const staleMs = opts.staleMs ?? 120_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1000, Math.floor(staleMs / 4));
  const holder = `${owner} pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}`;
  if (!(await tryCreate(file, holder))) {
    const info = await stat(file).catch(() => null);
    if (info && Date.now() - info.mtimeMs <= staleMs) throw new LockBusyError(file, await readHolder(file));
    // Stale: move it aside (only one contender's rename succeeds), then retry the exclusive create once.
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

async function tryCreate(file: string, holder: string): Promise<boolean> {
  try {
    const fh = await open(file, "wx", 0o644);
    await fh.writeFile(holder);
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/** Waits for the lock with a deadline, for a run that must happen but may wait its turn (a restore). */
export async function acquireLockWaiting(
  file: string,
  owner: string,
  timeoutMs: number,
  opts: LockOptions & { pollMs?: number } = {},
): Promise<OpsLock> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await acquireLock(file, owner, opts);
    } catch (err) {
      if (!(err instanceof LockBusyError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  }
}
