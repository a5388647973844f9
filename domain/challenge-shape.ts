import { z } from "zod";
import { storableString } from "./text.ts";

// What a challenge runs: one image and port (the single form), or named containers and what they expose.

export const imageRefSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/, "must be a Docker image reference");

export const envSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names must be shell identifiers"),
  storableString().max(4096),
);

export const capAddSchema = z
  .array(z.string().regex(/^(CAP_)?[A-Za-z_]{2,32}$/, "must be a capability name"))
  .max(16)
  .transform((caps) => [...new Set(caps.map((c) => c.toUpperCase().replace(/^CAP_/, "")))]);

export const memoryMbSchema = z.number().int().min(16).max(65536);
// The Docker engine runs nothing below a hundredth of a CPU.
export const cpusSchema = z.number().min(0.01).max(64);
export const pidsLimitSchema = z.number().int().min(8).max(65536);
export const protocolSchema = z.enum(["http", "tcp"]);
export type Protocol = z.infer<typeof protocolSchema>;

/** One named container of a challenge; unset limits and settings come from the challenge's own. */
export const containerSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z]([a-z0-9-]{0,29}[a-z0-9])?$/, "must be a DNS label: a-z, 0-9 and -, 1–31 characters, from a letter")
    .describe("How the instance's other containers reach this one"),
  image: imageRefSchema,
  command: z.array(storableString().max(4096)).min(1).max(64).nullable().default(null),
  env: envSchema.default({}).describe("Added to the challenge's env for this container"),
  memory_mb: memoryMbSchema.optional(),
  cpus: cpusSchema.optional(),
  pids_limit: pidsLimitSchema.optional(),
  read_only: z.boolean().optional(),
  cap_add: capAddSchema.optional(),
});
export type ContainerSpec = z.infer<typeof containerSchema>;

export const exposureSchema = z.strictObject({
  container: z.string().min(1).max(31),
  port: z.number().int().min(1).max(65535),
  protocol: protocolSchema.default("http"),
});
export type Exposure = z.infer<typeof exposureSchema>;

/** What a container runs with: a challenge's own, or one container's own settings resolved. */
interface ContainerSettings {
  image: string;
  env: Record<string, string>;
  memory_mb: number;
  cpus: number;
  pids_limit: number;
  read_only: boolean;
  cap_add: string[];
}

/** The fields of a challenge that describe its shape, as stored. */
export interface ShapeFields extends ContainerSettings {
  port: number;
  protocol: Protocol;
  containers: ContainerSpec[] | null;
  expose: Exposure[] | null;
}

/** A container as the engine starts it: every setting resolved. */
export interface ContainerDef extends ContainerSettings {
  name: string;
  command: string[] | null;
}

/** The name of the single form's one container. */
export const MAIN_CONTAINER = "main";

/** How a failure reason names a container: by its name, unless it is the single form's one. */
export const containerWord = (name: string) => (name === MAIN_CONTAINER ? "container" : `container '${name}'`);

/** Every container of a challenge, settings resolved: the single form is one container named `main`. */
export function containersOf(c: ShapeFields): ContainerDef[] {
  const specs = c.containers ?? [{ name: MAIN_CONTAINER, image: c.image, command: null, env: {} }];
  return specs.map((s) => ({
    name: s.name,
    image: s.image,
    command: s.command,
    env: { ...c.env, ...s.env },
    memory_mb: s.memory_mb ?? c.memory_mb,
    cpus: s.cpus ?? c.cpus,
    pids_limit: s.pids_limit ?? c.pids_limit,
    read_only: s.read_only ?? c.read_only,
    cap_add: s.cap_add ?? c.cap_add,
  }));
}

/** What a challenge exposes: the single form exposes its port with its protocol. */
export const exposuresOf = (c: ShapeFields): Exposure[] =>
  c.expose ?? [{ container: MAIN_CONTAINER, port: c.port, protocol: c.protocol }];

/**
 * The shape's own rules, as zod issues on the field they concern: one form or the other, names that do not repeat,
 * exposures that name a container.
 */
export function shapeIssues(spec: {
  image?: string;
  port?: number;
  protocol?: Protocol;
  containers: ContainerSpec[] | null;
  expose: Exposure[] | null;
}): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  if (!spec.containers) {
    if (spec.expose) issues.push({ path: ["expose"], message: "needs containers" });
    if (spec.image === undefined) issues.push({ path: ["image"], message: "is required (or give containers)" });
    if (spec.port === undefined) issues.push({ path: ["port"], message: "is required (or give containers)" });
    return issues;
  }
  for (const field of ["image", "port", "protocol"] as const)
    if (spec[field] !== undefined)
      issues.push({ path: [field], message: "belongs to the single-container form: set it in containers/expose" });
  if (!spec.expose) issues.push({ path: ["expose"], message: "is required with containers" });
  const names = new Set<string>();
  spec.containers.forEach((c, i) => {
    if (names.has(c.name)) issues.push({ path: ["containers", i, "name"], message: `'${c.name}' repeats` });
    names.add(c.name);
  });
  const exposed = new Set<string>();
  (spec.expose ?? []).forEach((e, i) => {
    if (!names.has(e.container))
      issues.push({ path: ["expose", i, "container"], message: `'${e.container}' names no container` });
    const key = `${e.container}:${e.port}`;
    if (exposed.has(key)) issues.push({ path: ["expose", i], message: `${key} is exposed twice` });
    exposed.add(key);
  });
  return issues;
}
