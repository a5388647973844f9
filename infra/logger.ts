import { pino } from "pino";

export type Logger = pino.Logger;

/** JSON-lines logger; secrets that could reach a log line are censored by path. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "*.headers.authorization",
        "token",
        "password",
        "*.password",
        "secretAccessKey",
        "*.secretAccessKey",
      ],
      censor: "[redacted]",
    },
  });
}
