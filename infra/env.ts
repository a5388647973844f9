import { readFileSync } from "node:fs";
import { z } from "zod";

/** Raised when the environment does not describe a usable configuration; the message names each variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Record<string, string | undefined>;

/** NAME_FILE (a Docker/Compose secret) wins over NAME for every listed secret. */
export function resolveFileVariants(env: Env, secrets: readonly string[]): Env {
  const out: Env = { ...env };
  for (const name of secrets) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    try {
      out[name] = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  }
  return out;
}

export const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);

/** One message naming every variable that failed, the way each config loader reports it. */
export function configErrorFrom(error: z.ZodError): ConfigError {
  const lines = error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  return new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}
