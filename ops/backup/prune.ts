import { stat } from "node:fs/promises";
import type { Logger } from "../../infra/logger.ts";
import { MANIFEST_SUFFIX, parseArtefactName } from "../shared/manifest.ts";
import { deleteLocal, listLocal } from "./local-store.ts";
import type { Candidate, RetentionPlan, RetentionPolicy } from "./retention.ts";
import { planRetention } from "./retention.ts";
import type { S3Store } from "./s3-store.ts";

export interface PruneOptions {
  dryRun: boolean;
  log: Logger;
  /** Only this database's backups are candidates: several databases may share a directory or prefix. */
  database: string;
  signal?: AbortSignal;
}

/** A backup in a store, with the database it is of (from its file name). */
type StoredCandidate = Candidate & { database: string };

/** One engine for both stores: list, plan, and (unless dry-run) delete what the plan gives up. */
async function prune(
  store: string,
  candidates: StoredCandidate[],
  policy: RetentionPolicy,
  remove: (names: string[]) => Promise<void>,
  opts: PruneOptions,
): Promise<RetentionPlan> {
  const plan = planRetention(
    candidates.filter((c) => c.database === opts.database),
    policy,
  );
  opts.log.info(
    {
      store,
      database: opts.database,
      dryRun: opts.dryRun,
      keep: plan.keep,
      delete: plan.delete,
      ignored: plan.ignored,
    },
    "retention plan",
  );
  if (!opts.dryRun && plan.delete.length > 0) await remove(plan.delete);
  return plan;
}

export async function pruneLocal(dir: string, policy: RetentionPolicy, opts: PruneOptions): Promise<RetentionPlan> {
  return prune("local", await listLocal(dir), policy, (names) => deleteLocal(dir, names), opts);
}

/** Artefacts in the bucket; one counts as verified once its manifest (always uploaded last) is there. */
function s3Candidates(keys: Map<string, number>, prefix: string): StoredCandidate[] {
  const out: StoredCandidate[] = [];
  for (const k of keys.keys()) {
    if (!k.startsWith(prefix)) continue;
    const name = k.slice(prefix.length);
    const parsed = parseArtefactName(name);
    if (parsed) out.push({ name, database: parsed.database, at: parsed.at, verified: keys.has(k + MANIFEST_SUFFIX) });
  }
  return out;
}

export async function pruneS3(s3: S3Store, policy: RetentionPolicy, opts: PruneOptions): Promise<RetentionPlan> {
  const candidates = s3Candidates(await s3.listKeys(opts.signal), s3.settings.prefix);
  return prune("s3", candidates, policy, (names) => s3.deleteNames(names, opts.signal), opts);
}

/**
 * Uploads every verified local backup the bucket lacks (a run after an outage catches up), newest first: the
 * file, then its manifest, each confirmed by size. A backup counts in S3 once its manifest is there.
 */
export async function syncToS3(s3: S3Store, dir: string, log: Logger, signal?: AbortSignal): Promise<string[]> {
  const keys = await s3.listKeys(signal);
  const uploaded: string[] = [];
  for (const a of await listLocal(dir)) {
    if (!a.verified || keys.has(s3.settings.prefix + a.name + MANIFEST_SUFFIX)) continue;
    const started = Date.now();
    await s3.putFile(a.path, a.name, a.sizeBytes, signal);
    const manifestPath = a.path + MANIFEST_SUFFIX;
    await s3.putFile(manifestPath, a.name + MANIFEST_SUFFIX, (await stat(manifestPath)).size, signal);
    const seconds = (Date.now() - started) / 1000;
    log.info(
      { file: a.name, bytes: a.sizeBytes, mbPerSecond: +(a.sizeBytes / 1e6 / seconds).toFixed(1) },
      "uploaded to S3",
    );
    uploaded.push(a.name);
  }
  return uploaded;
}
