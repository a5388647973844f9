import { z } from "zod";

export const TOOL_NAME = "ctf-instancer-backup";
export const TOOL_VERSION = "1";
export const MANIFEST_SUFFIX = ".manifest.json";
export const PARTIAL_SUFFIX = ".partial";

export type DumpFormat = "custom" | "plain";
export const EXTENSION: Record<DumpFormat, string> = { custom: ".dump", plain: ".sql.gz" };

const version = z.object({ num: z.number().int().positive(), text: z.string() });

/** Written beside every verified artefact; its presence is what makes a file count as a backup. */
export const manifestSchema = z.object({
  tool: z.literal(TOOL_NAME),
  toolVersion: z.string(),
  kind: z.enum(["scheduled", "manual", "pre-restore"]),
  runId: z.string(),
  database: z.string(),
  format: z.enum(["custom", "plain"]),
  compression: z.string(),
  file: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  serverVersion: version,
  clientVersion: version,
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  verified: z.literal(true),
  verification: z.array(z.string()),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** 2025-01-31T04:05:06.789Z → 20250131T040506.789Z: sorts by time, safe in file names and S3 keys. */
export function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "");
}

export function parseStamp(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(text);
  if (!m) throw new Error(`not a backup timestamp: ${text}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}

export function artefactName(database: string, at: Date, format: DumpFormat): string {
  return `${database}-${stamp(at)}${EXTENSION[format]}`;
}

const NAME_RE = /^(.+)-(\d{8}T\d{6}\.\d{3}Z)(\.dump|\.sql\.gz)$/;

/** Recognises names this tool writes; anything else is someone else's file and is never touched. */
export function parseArtefactName(name: string): { database: string; at: Date; format: DumpFormat } | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  return { database: m[1]!, at: parseStamp(m[2]!), format: m[3] === ".dump" ? "custom" : "plain" };
}

export function parseManifest(text: string): Manifest | null {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
