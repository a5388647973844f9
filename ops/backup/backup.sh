#!/bin/sh
# `backup serve` (the service), `backup now` (one run; exit 0 ok, 1 failed, 2 S3 failed, 3 skipped),
# `backup prune [--dry-run]`. Usable with `docker compose exec db-backup backup now`.
# A 1 MB young generation: short-lived buffers die in frequent cheap collections instead of piling up between full
# ones; `--expose-gc` lets a plain backup's check collect each decoded chunk at once. The compile cache keeps Node's
# TypeScript stripper (a WebAssembly module: ~20 MB resident, 0.15 s of start) out of every start after the first.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-${TMPDIR:-/tmp}/ctf-instancer-node-cache}"
exec node --max-semi-space-size=1 --expose-gc "$(dirname "$(readlink -f "$0")")/main.ts" "$@"
