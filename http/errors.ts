/** Every failure the API reports, with the status it maps to. */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  team_quota_exceeded: 409,
  renewal_not_open: 409,
  max_lifetime_reached: 409,
  not_running: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // Refused by Node's HTTP parser before any route (http/client-errors.ts).
  request_timeout: 408,
  headers_too_large: 431,
  rate_limited: 429,
  cooldown: 429,
  // 429, not 503: a full event is not an outage, and a gateway must not turn it into a maintenance page.
  capacity_exhausted: 429,
  internal_error: 500,
  // The instance could not start for a reason of the challenge's (image missing, container exits, port never
  // served): an upstream failure, not the API's own.
  instance_failed: 502,
  service_unavailable: 503,
  // Answered by the gateway, never by the API itself: during a restore, or while the API is unreachable.
  maintenance: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  override name = "AppError";
  readonly code: ErrorCode;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; headers?: Record<string, string> } = {}) {
    super(message);
    this.code = code;
    this.details = opts.details;
    this.headers = opts.headers;
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

export function envelope(err: AppError, requestId: string): ErrorEnvelope {
  return {
    error: {
      code: err.code,
      message: err.message,
      requestId,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}

/** Errors that mean a backing service is unreachable: answered with 503, not 500. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE", "57P01", "57P03"].includes(code)
  )
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Stream isn't writeable|Connection is closed|enableOfflineQueue|Reached the max retries/i.test(
    err.message,
  );
}
