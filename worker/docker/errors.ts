import { PermanentStartError, type FailureKind } from "../engine/engine.ts";

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;
export const isNotModified = (err: unknown) => statusOf(err) === 304;

/** The engine did not answer at all: its socket is not there, refused, or went away mid-request. */
export function isEngineUnreachable(err: unknown): boolean {
  if (statusOf(err) !== undefined) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return ["ECONNREFUSED", "ECONNRESET", "ENOENT", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"].includes(code ?? "");
}

// What an engine restarted under a stopped container can leave: its network made again under a new id, or its
// old endpoint still registered on the network.
const STALE_ATTACHMENT = /network \S+ not found|endpoint with name \S+ already exists in network/i;

export const isStaleAttachment = (err: unknown) => STALE_ATTACHMENT.test(String(err));

/**
 * Engine hiccups worth a retry: 5xx answers, an engine that does not answer (yet), and a stale network attachment
 * (the failed attempt's cleanup removes the container, and the network once nothing holds it, so the next attempt
 * starts over).
 */
/** How to treat a failed start, for an engine spoken to through the Docker API. */
export function classifyDockerFailure(err: unknown): FailureKind {
  if (err instanceof PermanentStartError || !isTransientDockerError(err)) return "permanent";
  return isEngineUnreachable(err) ? "unreachable" : "transient";
}

export function isTransientDockerError(err: unknown): boolean {
  if (isStaleAttachment(err)) return true;
  const status = statusOf(err);
  return status !== undefined ? status >= 500 : isEngineUnreachable(err);
}
