import type { DbClient } from "./db.ts";

/**
 * The canonical form of an image reference, as the engine lists it: Docker Hub's default registry and
 * `library/` namespace dropped, `:latest` added when neither a tag nor a digest is given.
 */
export function canonicalImageRef(ref: string): string {
  const short = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(library\/)?/, "");
  if (short.startsWith("sha256:") || short.includes("@")) return short;
  const lastPart = short.slice(short.lastIndexOf("/") + 1);
  return lastPart.includes(":") ? short : `${short}:latest`;
}

/** Replaces what the deployment's engine is known to hold (tags, digests and ids of every image). */
export async function reportEngineImages(db: DbClient, deployment: string, refs: string[]): Promise<void> {
  await db.query(
    `INSERT INTO engine_images (deployment, refs, reported_at) VALUES ($1, $2, now())
     ON CONFLICT (deployment) DO UPDATE SET refs = $2, reported_at = now()`,
    [deployment, refs],
  );
}

/** Whether the engine has `image`, as of the worker's last report; `null` when no worker has reported yet. */
export async function engineHasImage(
  db: DbClient,
  deployment: string,
  image: string,
): Promise<{ present: boolean; reportedAt: Date } | null> {
  const res = await db.query<{ present: boolean; reported_at: Date }>(
    "SELECT $2 = ANY(refs) AS present, reported_at FROM engine_images WHERE deployment = $1",
    [deployment, canonicalImageRef(image)],
  );
  const row = res.rows[0];
  return row ? { present: row.present, reportedAt: row.reported_at } : null;
}
