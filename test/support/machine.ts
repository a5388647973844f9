// What of the machine the suite must leave alone: the machine's own Docker engine and its running containers,
// /etc/docker, the host's network links and firewall rules. `npm test` records it before the suite
// (`node test/support/machine.ts > FILE`); test/machine/untouched.test.ts compares after every other test.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);
/** Names the lab gives its bridges, veths and namespaces (scripts/lab/engine-lab.sh). */
const LAB_PREFIX = "ctfi-";

export interface RunningContainer {
  id: string;
  name: string;
  startedAt: string;
  restartCount: number;
}

export interface MachineState {
  /** Path → sha256 of every file under /etc/docker; empty when it does not exist. */
  etcDocker: Record<string, string>;
  /** The host's network links, but the lab's own. */
  links: string[];
  /** iptables rules (filter and nat), but the lab's own. */
  rules: string[];
  /** The lab's own rules. */
  labRules: string[];
  /** Running containers of the machine's own engine (/var/run/docker.sock); null when none answers. */
  containers: RunningContainer[] | null;
  /** Containers, networks and volumes of the machine's own engine that carry this project's labels or names. */
  ours: string[];
}

function hashTree(dir: string, into: Record<string, string> = {}): Record<string, string> {
  if (!existsSync(dir)) return into;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) hashTree(path, into);
    else into[path] = createHash("sha256").update(readFileSync(path)).digest("hex");
  }
  return into;
}

async function links(): Promise<string[]> {
  const { stdout } = await run("ip", ["-o", "link", "show"]);
  return stdout
    .split("\n")
    .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
    .filter((name) => name && !name.startsWith(LAB_PREFIX))
    .sort();
}

async function rules(): Promise<{ rules: string[]; labRules: string[] }> {
  const all: string[] = [];
  for (const table of ["filter", "nat"]) {
    const saved = await run("iptables-save", ["-t", table]).catch(() => ({ stdout: "" }));
    for (const line of saved.stdout.split("\n")) if (line.startsWith("-A ")) all.push(`${table} ${line}`);
  }
  return {
    rules: all.filter((r) => !r.includes(LAB_PREFIX)).sort(),
    labRules: all.filter((r) => r.includes(LAB_PREFIX)).sort(),
  };
}

const machineEngine = () => new Docker({ socketPath: "/var/run/docker.sock", timeout: 5000 });
const isOurs = (name: string, labels: Record<string, string> | null | undefined) =>
  name.replace(/^\//, "").startsWith(LAB_PREFIX) ||
  Object.keys(labels ?? {}).some((k) => k.startsWith("org.ctf-instancer"));

/** Only reads: what of ours the machine's engine holds (a test that reached it by mistake leaves some). */
async function ours(): Promise<string[]> {
  if (!existsSync("/var/run/docker.sock")) return [];
  const engine = machineEngine();
  try {
    const found: string[] = [];
    for (const c of await engine.listContainers({ all: true }))
      if (c.Names.some((n) => isOurs(n, c.Labels))) found.push(`container ${c.Names[0]}`);
    for (const n of await engine.listNetworks()) if (isOurs(n.Name, n.Labels)) found.push(`network ${n.Name}`);
    const { Volumes } = await engine.listVolumes();
    for (const v of Volumes ?? []) if (isOurs(v.Name, v.Labels)) found.push(`volume ${v.Name}`);
    return found.sort();
  } catch {
    return [];
  }
}

async function containers(): Promise<RunningContainer[] | null> {
  if (!existsSync("/var/run/docker.sock")) return null;
  const engine = machineEngine();
  try {
    const list = await engine.listContainers();
    const result: RunningContainer[] = [];
    for (const c of list) {
      const info = await engine.getContainer(c.Id).inspect();
      result.push({ id: c.Id, name: info.Name, startedAt: info.State.StartedAt, restartCount: info.RestartCount });
    }
    return result.sort((a, b) => a.id.localeCompare(b.id));
  } catch {
    return null;
  }
}

export async function machineState(): Promise<MachineState> {
  return {
    etcDocker: hashTree("/etc/docker"),
    links: await links(),
    ...(await rules()),
    containers: await containers(),
    ours: await ours(),
  };
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(await machineState())}\n`);
