// The backup and restore services' traces on disk, as far as the API can see them (read-only mounts): the newest
// verified backup (a manifest beside its file), the newest restore result, and the gateway's maintenance flag.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

export const backupStatusSchema = z
  .object({ file: z.string(), at: z.string(), age_seconds: z.number() })
  .nullable()
  .describe("The newest verified backup; null when BACKUP_DIR is unset or holds none");
export const restoreStatusSchema = z
  .object({ file: z.string(), status: z.string(), finished_at: z.string(), error: z.string().nullable() })
  .nullable()
  .describe("The newest restore's result; null when none is readable");
export const maintenanceSchema = z.object({
  known: z.boolean().describe("false when MAINTENANCE_FLAG_FILE is unset"),
  on: z.boolean(),
  reason: z.string().nullable(),
});

const MANIFEST_SUFFIX = ".manifest.json";
const RESULT_SUFFIX = ".result.json";

/** Files in `dir` ending with `suffix`, newest first by modification time; none when the folder is unreadable. */
async function newest(dir: string, suffix: string): Promise<{ path: string; mtime: Date }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found = await Promise.all(
    names
      .filter((n) => n.endsWith(suffix))
      .map(async (n) => {
        const info = await stat(join(dir, n)).catch(() => null);
        return info?.isFile() ? { path: join(dir, n), mtime: info.mtime } : null;
      }),
  );
  return found.filter((f) => f !== null).sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
}

export async function backupStatus(backupDir: string | undefined, now = new Date()) {
  if (!backupDir) return null;
  const [latest] = await newest(backupDir, MANIFEST_SUFFIX);
  if (!latest) return null;
  return {
    file: latest.path.slice(backupDir.length).replace(/^\//, "").slice(0, -MANIFEST_SUFFIX.length),
    at: latest.mtime.toISOString(),
    age_seconds: Math.max(0, Math.round((now.getTime() - latest.mtime.getTime()) / 1000)),
  };
}

/** The restore service files each result under restore/processed or restore/failed of the backups volume. */
export async function lastRestore(backupDir: string | undefined) {
  if (!backupDir) return null;
  const results = (
    await Promise.all(["processed", "failed"].map((d) => newest(join(backupDir, "restore", d), RESULT_SUFFIX)))
  )
    .flat()
    .sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
  for (const { path, mtime } of results) {
    const parsed = z
      .object({ file: z.string(), status: z.string(), finishedAt: z.string().optional(), error: z.string().optional() })
      .safeParse(parseJson(await readFile(path, "utf8").catch(() => "")));
    if (parsed.success)
      return {
        file: parsed.data.file,
        status: parsed.data.status,
        finished_at: parsed.data.finishedAt ?? mtime.toISOString(),
        error: parsed.data.error ?? null,
      };
  }
  return null;
}

export async function maintenanceStatus(flagFile: string | undefined) {
  if (!flagFile) return { known: false, on: false, reason: null };
  const text = await readFile(flagFile, "utf8").catch(() => null);
  return { known: true, on: text !== null, reason: text?.trim() || null };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null; // a result being written or damaged: the next older one is used
  }
}
