#!/bin/sh
# `restore serve` (the watcher), `restore FILE [--dry-run]` (one file; exit 0 restored, 1 failed).
# Usable with `docker compose exec db-restore restore /backups/restore/incoming/FILE`.
exec node /app/ops/restore/main.ts "$@"
