import { z } from "zod";
import type { Env } from "../../infra/env.ts";
import { configErrorFrom, resolveFileVariants } from "../../infra/env.ts";

export { ConfigError, int } from "../../infra/env.ts";
export type { Env } from "../../infra/env.ts";

export function parseEnv<S extends z.ZodType>(schema: S, env: Env, secrets: readonly string[]): z.infer<S> {
  // Empty strings mean "unset" (compose files pass `VAR: ${VAR:-}`), so defaults apply.
  const cleaned = Object.fromEntries(Object.entries(resolveFileVariants(env, secrets)).filter(([, v]) => v !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw configErrorFrom(result.error);
}

export const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

export const postgresUrl = z
  .string({ error: "is required" })
  .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// URL");

export const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v), "must be an http(s):// URL");

export const absolutePath = z.string().refine((v) => v.startsWith("/"), "must be an absolute path");
