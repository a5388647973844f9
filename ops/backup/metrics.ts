import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** One registry per service instance, so tests can run several side by side. */
export function createBackupMetrics() {
  const registry = new Registry();
  return {
    registry,
    runs: new Counter({
      name: "backup_runs_total",
      help: "Backup runs by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: "backup_last_success_timestamp_seconds",
      help: "End of the last verified backup",
      registers: [registry],
    }),
    lastSize: new Gauge({
      name: "backup_last_size_bytes",
      help: "Size of the last verified backup",
      registers: [registry],
    }),
    duration: new Histogram({
      name: "backup_duration_seconds",
      help: "Wall time of backup runs",
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    }),
    s3Failures: new Counter({
      name: "backup_s3_failures_total",
      help: "Runs whose S3 step failed",
      registers: [registry],
    }),
    pruned: new Counter({
      name: "backup_pruned_total",
      help: "Backups deleted by retention",
      labelNames: ["store"] as const,
      registers: [registry],
    }),
  };
}

export type BackupMetrics = ReturnType<typeof createBackupMetrics>;
