import { mkdir, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The gateway serves its maintenance page while this file exists. */
export async function maintenanceOn(flagFile: string, reason: string): Promise<void> {
  await mkdir(dirname(flagFile), { recursive: true });
  await writeFile(flagFile, `${reason}\n`);
}

export async function maintenanceOff(flagFile: string): Promise<void> {
  await unlink(flagFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
