#!/bin/sh
# Fills Node's compile cache (NODE_COMPILE_CACHE, see backup.sh) with every module the backup command loads: main.ts
# and its imports (with no DATABASE_URL it stops at the configuration check, exit 78), and the modules it loads only
# to serve or to upload to S3. The cache is per user and per V8 flags: run this as the user that runs `backup`.
dir="$(dirname "$(readlink -f "$0")")"
NODE_OPTIONS="--import=$dir/service.ts --import=$dir/metrics.ts --import=$dir/s3-store.ts" DATABASE_URL= \
  DATABASE_URL_FILE= "$dir/backup.sh" now >/dev/null 2>&1
status=$?
[ "$status" -eq 78 ] || { echo "warm-cache: backup.sh exited $status, not 78 (no configuration)" >&2; exit 1; }
