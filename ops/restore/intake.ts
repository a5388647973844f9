import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_SUFFIX } from "../shared/manifest.ts";

const IGNORED = [".partial", ".tmp", ".part", ".crdownload", ".ready", MANIFEST_SUFFIX, ".result.json"];

/** Dotfiles, partial downloads, markers and sidecars are never candidates. */
export function isCandidateName(name: string): boolean {
  return !name.startsWith(".") && !IGNORED.some((s) => name.endsWith(s));
}

/**
 * Polls `incoming/` (polling works on bind mounts where inotify does not). A file is handed out once its size and
 * mtime have not changed for `stableMs`, or at once when `NAME.ready` exists beside it.
 */
export function createIntake(watchDir: string, stableMs: number) {
  const incoming = join(watchDir, "incoming");
  const seen = new Map<string, { size: number; mtimeMs: number; since: number }>();
  return {
    incoming,
    async nextReady(now = Date.now()): Promise<string | null> {
      await mkdir(incoming, { recursive: true });
      const names = await readdir(incoming);
      const present = new Set(names);
      for (const key of seen.keys()) if (!present.has(key)) seen.delete(key);
      const ready: { name: string; mtimeMs: number }[] = [];
      for (const name of names) {
        if (!isCandidateName(name)) continue;
        const info = await stat(join(incoming, name)).catch(() => null);
        if (!info?.isFile()) continue;
        const prev = seen.get(name);
        if (!prev || prev.size !== info.size || prev.mtimeMs !== info.mtimeMs) {
          seen.set(name, { size: info.size, mtimeMs: info.mtimeMs, since: now });
          if (!present.has(`${name}.ready`)) continue;
        }
        const stableFor = now - seen.get(name)!.since;
        if (present.has(`${name}.ready`) || (info.size > 0 && stableFor >= stableMs))
          ready.push({ name, mtimeMs: info.mtimeMs });
      }
      ready.sort((a, b) => a.mtimeMs - b.mtimeMs);
      const first = ready[0];
      if (!first) return null;
      seen.delete(first.name);
      return join(incoming, first.name);
    },
  };
}
