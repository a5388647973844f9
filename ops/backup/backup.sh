#!/bin/sh
# `backup serve` (the service), `backup now` (one run; exit 0 ok, 1 failed, 2 S3 failed, 3 skipped),
# `backup prune [--dry-run]`. Usable with `docker compose exec db-backup backup now`.
# A 1 MB young generation: short-lived buffers die in frequent cheap collections instead of piling up between full
# ones. This process runs little JavaScript (the bytes move between pg_dump, the file and the checking processes;
# hashing is native), so it goes without V8's compilers beyond the interpreter: Turbofan and Maglev cost ~9 MB
# resident (their code pages and work), Sparkplug ~1 MB, for the same CPU time. `--optimize-for-size`: 1.4 MB less
# at the peak of a 1 GB backup.
# The compile cache keeps Node's TypeScript stripper (a WebAssembly module: ~20 MB resident, 0.15 s of start) out of
# every start after the first; the image fills it at build time.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-${TMPDIR:-/tmp}/ctf-instancer-node-cache}"
self="$(readlink -f "$0")"
exec node --max-semi-space-size=1 --no-turbofan --no-maglev --optimize-for-size --no-sparkplug "${self%/*}/main.ts" "$@"
