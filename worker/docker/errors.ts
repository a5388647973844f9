/** A failure that retrying cannot fix (missing image, port never opened): the instance is marked failed. */
export class PermanentStartError extends Error {
  override name = "PermanentStartError";
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;
export const isNotModified = (err: unknown) => statusOf(err) === 304;

/** Engine hiccups worth a retry: 5xx answers and a socket that is not (yet) there. */
export function isTransientDockerError(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status >= 500;
  const code = (err as NodeJS.ErrnoException).code;
  return ["ECONNREFUSED", "ECONNRESET", "ENOENT", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"].includes(code ?? "");
}
