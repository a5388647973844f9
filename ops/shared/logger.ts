import { pino } from "pino";

export type Logger = pino.Logger;

/** JSON-lines logger for the ops services; anything that looks like a credential is censored by path. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["password", "*.password", "secretAccessKey", "*.secretAccessKey", "authorization", "*.authorization"],
      censor: "[redacted]",
    },
  });
}
