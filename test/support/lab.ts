// The tests' handle on scripts/lab/engine-lab.sh: private Docker engines in network namespaces of the suite's
// own, as many as a test needs, torn down without a trace.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);
const LAB_SCRIPT = new URL("../../scripts/lab/engine-lab.sh", import.meta.url).pathname;

export interface LabEngine {
  /** `unix://…` socket of the engine, for DOCKER_HOST. */
  dockerHost: string;
  /** The engine's address: where its published ports answer. */
  host: string;
  /** This host's address as the engine's containers reach it. */
  labHost: string;
  docker: Docker;
}

function parseEnv(lines: string): LabEngine[] {
  const engines: LabEngine[] = [];
  let current: Partial<LabEngine> = {};
  for (const line of lines.split("\n")) {
    const [key, value] = [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)];
    if (key === "DOCKER_HOST") current = { dockerHost: value };
    if (key === "TEST_ENGINE_HOST") current.host = value;
    if (key === "TEST_LAB_HOST") current.labHost = value;
    if (key === "DOCKER_CONFIG" && current.dockerHost) {
      const socketPath = current.dockerHost.slice("unix://".length);
      engines.push({ ...(current as LabEngine), docker: new Docker({ socketPath }) });
    }
  }
  return engines;
}

/**
 * A test file's own lab, named by its `tag` (1–4 characters). With the suite's default lab the tag is the name; a
 * run under another TEST_LAB puts that lab's first two characters in front, so two suites on one machine (two
 * checkouts, or a fresh-clone run beside a working one) never share a lab.
 */
export function ownLab(tag: string): string {
  const suite = process.env.TEST_LAB ?? "suite";
  return suite === "suite" ? tag : `${suite.slice(0, 2)}${tag}`;
}

/** Starts (or reuses) engines 1..count of `lab`. */
export async function labUp(lab: string, count: number): Promise<LabEngine[]> {
  const { stdout } = await run("bash", [LAB_SCRIPT, "up", lab, String(count)], { timeout: 180_000 });
  const engines = parseEnv(stdout);
  if (engines.length !== count) throw new Error(`engine-lab up ${lab} ${count} gave ${engines.length} engines`);
  return engines;
}

/**
 * Engines 1..count of `lab` as a swarm: 1 the (drained) manager, the others workers; `egressNode` is the one node
 * whose tasks may reach beyond it (labelled org.ctf-instancer.egress=true).
 */
export async function swarmUp(lab: string, count: number, egressNode?: number): Promise<LabEngine[]> {
  await run("bash", [LAB_SCRIPT, "swarm", lab, String(count), ...(egressNode ? [String(egressNode)] : [])], {
    timeout: 300_000,
  });
  return labUp(lab, count);
}

/** Stops one engine, as a node lost: `labUp` brings it back. */
export async function stopEngine(lab: string, index: number): Promise<void> {
  await run("bash", [LAB_SCRIPT, "stop", lab, String(index)], { timeout: 180_000 });
}

/** Stops everything of `lab` and deletes its state: a test's lab leaves nothing behind. */
export async function labDown(lab: string): Promise<void> {
  await run("bash", [LAB_SCRIPT, "down", lab, "--purge"], { timeout: 180_000 });
}

/** Stops one engine (SIGTERM, as a daemon restart does) and starts it again. */
export async function restartEngine(lab: string, index: number): Promise<void> {
  await run("bash", [LAB_SCRIPT, "restart", lab, String(index)], { timeout: 180_000 });
}

/** Copies an image from the suite's engine onto another (`docker save | docker load`). */
export async function copyImage(image: string, to: LabEngine): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const save = spawn("docker", ["save", image], { stdio: ["ignore", "pipe", "inherit"] });
    const load = spawn("docker", ["-H", to.dockerHost, "load", "-q"], { stdio: ["pipe", "ignore", "inherit"] });
    save.stdout.pipe(load.stdin);
    save.on("error", reject);
    load.on("error", reject);
    load.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`docker load exited ${code}`))));
  });
}
