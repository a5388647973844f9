#!/usr/bin/env bash
# Stops everything `npm test` leaves running for the next run (`npm run test:stop`): every engine lab (engines,
# namespaces, veths, bridges, the firewall rule, the egress proxy), the test PostgreSQL and Redis. Their data stays
# under $TEST_STATE_DIR (default /var/tmp/ctf-instancer-test) for a quick next start; `--purge` deletes it too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${TEST_STATE_DIR:-/var/tmp/ctf-instancer-test}"
PG_PORT="${TEST_PG_PORT:-55432}"
REDIS_PORT="${TEST_REDIS_PORT:-56379}"
PURGE=""
[ "${1:-}" = "--purge" ] && PURGE="--purge"

bash "$ROOT/scripts/lab/engine-lab.sh" down --all $PURGE
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -n "$PG_BIN" ] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  su postgres -c "$PG_BIN/pg_ctl -D '$STATE_DIR/pg' -m fast -w stop" >&2
fi
if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
fi
[ -z "$PURGE" ] || rm -rf "$STATE_DIR"
echo "[test-services] stopped" >&2
