import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { RestoreConfig } from "../../../ops/restore/config.ts";
import { loadRestoreConfig } from "../../../ops/restore/config.ts";
import { sha256File } from "../../../ops/shared/files.ts";
import { runToolOk } from "../../../ops/shared/process.ts";
import { tempDir, writeScript } from "./files.ts";
import { pgBin } from "./postgres.ts";

/** The environment of a restore into `databaseUrl` that stops `stop`, with everything under `watch`. */
export function restoreEnv(
  databaseUrl: string,
  watch: string,
  stop: string[],
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    RESTORE_DATABASE_URL: databaseUrl,
    RESTORE_WATCH_DIR: watch,
    RESTORE_STOP_CONTAINERS: stop.join(","),
    RESTORE_STOP_TIMEOUT_SECONDS: "5",
    RESTORE_START_TIMEOUT_SECONDS: "30",
    RESTORE_MAINTENANCE_FLAG_FILE: join(watch, "flags", "maintenance.on"),
    RESTORE_LOCK_FILE: join(watch, ".ops.lock"),
    RESTORE_PRE_BACKUP_DIR: join(watch, "pre-restore"),
    PG_DUMP_BIN: pgBin("pg_dump"),
    PG_RESTORE_BIN: pgBin("pg_restore"),
    PSQL_BIN: pgBin("psql"),
    ...extra,
  };
}

export function restoreConfig(...args: Parameters<typeof restoreEnv>): RestoreConfig {
  return loadRestoreConfig(restoreEnv(...args));
}

/** A fresh watch directory with `file` copied into incoming/ as `name`; `cleanups` removes it. */
export async function dropFile(name: string, file: string, cleanups: (() => Promise<unknown>)[]) {
  const watch = (await tempDir("restore-watch")).path;
  // rm -rf: a restore run as root may leave files the test user could not remove one by one.
  cleanups.push(() => runToolOk("rm", ["-rf", watch]));
  await mkdir(join(watch, "incoming"), { recursive: true });
  const path = join(watch, "incoming", name);
  await copyFile(file, path);
  return { watch, path };
}

export async function fileIdentity(path: string) {
  const { sha256, size } = await sha256File(path);
  return { sha256, size };
}

/** A pg_restore that lists and verifies as usual but hangs once asked to load (`--exit-on-error`), in `dir`. */
export function hangingPgRestore(dir: string): Promise<string> {
  return writeScript(
    join(dir, "pg_restore-hang"),
    `case "$*" in *--exit-on-error*) exec sleep 3600;; esac\nexec ${pgBin("pg_restore")} "$@"`,
  );
}
