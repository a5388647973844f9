import { randomBytes } from "node:crypto";
import Docker from "dockerode";

export const docker = new Docker();
export const TEST_LABEL = "org.ctf-instancer.ops-test";

/** Removes every container labelled with the test run `run`, whatever its state. */
export async function removeTestContainers(run: string): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${run}`] } });
  for (const c of all)
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {});
}

/** Busybox containers standing in for the app services, labelled with this file's run id for cleanup. */
export async function startStandIns(prefix: string, services: string[]) {
  const run = `${prefix}-${randomBytes(4).toString("hex")}`;
  const names: string[] = [];
  for (const s of services) {
    const name = `${run}-${s}`;
    const c = await docker.createContainer({
      name,
      Image: "busybox:stable",
      Cmd: ["sleep", "3600"],
      Labels: { [TEST_LABEL]: run },
      HostConfig: { Init: true, NetworkMode: "none" },
    });
    await c.start();
    names.push(name);
  }
  return {
    run,
    names,
    async running(): Promise<Record<string, boolean>> {
      const out: Record<string, boolean> = {};
      for (const n of names) out[n] = (await docker.getContainer(n).inspect()).State.Running;
      return out;
    },
    remove: () => removeTestContainers(run),
  };
}
