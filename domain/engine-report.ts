import type { DbClient } from "../infra/db.ts";

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

export interface EngineFacts {
  /** Tags, digests and ids of every image the engine holds; null when it cannot tell (a cluster's nodes pull). */
  refs: string[] | null;
  /** CPUs the engine has: a container may not ask for more. */
  cpus: number;
}

/** Replaces what is known of the deployment's engine. */
export async function reportEngine(db: DbClient, deployment: string, facts: EngineFacts): Promise<void> {
  await db.query(
    `INSERT INTO engine_reports (deployment, refs, cpus, reported_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (deployment) DO UPDATE SET refs = $2, cpus = $3, reported_at = now()`,
    [deployment, facts.refs, facts.cpus],
  );
}

/** What the worker last reported of the engine, for one image; `null` when no worker has reported yet. */
export async function readEngineReport(
  db: DbClient,
  deployment: string,
  image: string,
): Promise<{ imagePresent: boolean | null; cpus: number | null; reportedAt: Date } | null> {
  const res = await db.query<{ present: boolean | null; cpus: number | null; reported_at: Date }>(
    "SELECT $2 = ANY(refs) AS present, cpus, reported_at FROM engine_reports WHERE deployment = $1",
    [deployment, canonicalImageRef(image)],
  );
  const row = res.rows[0];
  return row ? { imagePresent: row.present, cpus: row.cpus, reportedAt: row.reported_at } : null;
}
