#!/bin/sh
# `backup serve` (the service), `backup now` (one run; exit 0 ok, 1 failed, 2 S3 failed, 3 skipped),
# `backup prune [--dry-run]`. Usable with `docker compose exec db-backup backup now`.
# A 1 MB young generation: a dump streams short-lived buffers, which then die in frequent cheap collections
# instead of piling up to ~100 MB of resident memory between full ones (peak RSS stays flat with the database size).
exec node --max-semi-space-size=1 "$(dirname "$(readlink -f "$0")")/main.ts" "$@"
