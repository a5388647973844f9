#!/bin/sh
# `backup serve` (the service), `backup now` (one run; exit 0 ok, 1 failed, 2 S3 failed, 3 skipped),
# `backup prune [--dry-run]`. Usable with `docker compose exec db-backup backup now`.
exec node /app/ops/backup/backup-cli.ts "$@"
