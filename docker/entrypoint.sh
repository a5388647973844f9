#!/bin/sh
# Container entrypoint for the API and the worker (run under tini, as the non-root user `node`).
#
#   api      wait for PostgreSQL (create the database if missing), run migrations under their advisory lock,
#            wait for Redis, then exec the API server
#   worker   the same checks plus the Docker socket, then exec the worker
#   migrate  wait for PostgreSQL, create the database if missing, run migrations, exit
#   other    exec'd as given (e.g. `sh`, `node -e ...`)
#
# Every wait is bounded by WAIT_TIMEOUT_SECONDS (default 60): missing it exits non-zero with a message naming
# the service and its address. MIGRATE_ON_START=false skips migrations for api/worker. The image runs dist/
# (compiled JavaScript); APP_SOURCE=source runs the TypeScript sources instead, with `node --watch` (the dev
# image, where the source tree is bind-mounted).
set -eu
cd "$(dirname "$0")/.."

role="${1:-api}"
src="${APP_SOURCE:-dist}"
# Module path (without extension) → the file to run for the chosen source.
app() { if [ "$src" = source ]; then echo "$1.ts"; else echo "dist/$1.js"; fi; }
watch=""
[ "$src" = source ] && [ "${APP_WATCH:-true}" = true ] && watch="--watch"

prepare() { node docker/entrypoint/main.ts "$@"; }
migrate() {
  if [ "${MIGRATE_ON_START:-true}" = true ]; then node "$(app migrate/main)"; fi
}
record_role() { echo "$1" >/tmp/ctf-instancer.role 2>/dev/null || true; }

case "$role" in
  api)
    [ $# -gt 0 ] && shift
    prepare --postgres --create-database
    migrate
    prepare --redis
    record_role api
    # From source (the dev image), the dashboard and team page are built from the mounted tree first.
    if [ "$src" = source ]; then node web/build.ts || echo "entrypoint: /admin and /team not built (npm run build:web)" >&2; fi
    exec node $watch "$(app api/main)" "$@"
    ;;
  worker)
    [ $# -gt 0 ] && shift
    prepare --postgres --create-database
    migrate
    prepare --redis --docker
    record_role worker
    exec node $watch "$(app worker/main)" "$@"
    ;;
  migrate)
    prepare --postgres --create-database
    exec node "$(app migrate/main)"
    ;;
  *)
    exec "$@"
    ;;
esac
