#!/usr/bin/env bash
# Installs (when missing) and starts the real services the tests use: PostgreSQL and Redis on loopback, the
# suite's own Docker engine in a network namespace, Nginx's binary, and the sample challenge image.
# Safe to run again: running services are reused. Source it: it exports TEST_DATABASE_URL and TEST_REDIS_URL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# TEST_STATE_DIR, TEST_PG_PORT, TEST_REDIS_PORT and TEST_LAB (the engine lab's name) let a second copy of the
# suite run beside the first.
STATE_DIR="${TEST_STATE_DIR:-/var/tmp/ctf-instancer-test}"
PG_PORT="${TEST_PG_PORT:-55432}"
REDIS_PORT="${TEST_REDIS_PORT:-56379}"
log() { echo "[test-services] $*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || need+=(nginx)
command -v dockerd >/dev/null || need+=(docker.io)
command -v ip >/dev/null || need+=(iproute2)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v fail2ban-regex >/dev/null || need+=(fail2ban)
command -v openssl >/dev/null || need+=(openssl)
# pigz checks plain backups (ops/shared/dump.ts).
command -v pigz >/dev/null || need+=(pigz)
# A real browser for the dashboard and team page tests (driven by playwright-core, test/browser/).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# --- Docker: the suite's own engine ----------------------------------------------------------------
# A private dockerd in a network namespace of the suite's own (scripts/lab/engine-lab.sh); the machine's engine,
# /etc/docker, its bridges and its firewall are never touched. Exports DOCKER_HOST, TEST_ENGINE_HOST (where
# published ports answer), TEST_LAB_HOST (this host as the engine's containers reach it) and DOCKER_CONFIG.
while IFS= read -r line; do export "${line?}"; done < <(bash "$ROOT/scripts/lab/engine-lab.sh" up "${TEST_LAB:-suite}" 1)
[ -n "${DOCKER_HOST:-}" ] || { log "the suite's Docker engine did not start"; exit 1; }

# --- PostgreSQL: a throwaway cluster owned by the postgres user ----------------------------------
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PG_DATA="$STATE_DIR/pg"
mkdir -p "$STATE_DIR" && chmod 755 "$STATE_DIR"
if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $PG_DATA"
    rm -rf "$PG_DATA" && mkdir -p "$PG_DATA" && chown postgres:postgres "$PG_DATA"
    su postgres -c "$PG_BIN/initdb -D '$PG_DATA' -U postgres --auth=trust -E UTF8 >/dev/null"
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  su postgres -c "$PG_BIN/pg_ctl -D '$PG_DATA' -l '$PG_DATA/server.log' -w -t 60 \
    -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='$PG_DATA' -c max_connections=300 -c fsync=off\" start" >&2
fi

# --- Redis: no persistence -----------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --logfile "$STATE_DIR/redis.log" --dir "$STATE_DIR"
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# --- Images the tests start ------------------------------------------------------------------------
"$ROOT/docker/challenge/build-image.sh" >/dev/null

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export TEST_CHALLENGE_IMAGE="${CHALLENGE_IMAGE:-ctf-instancer/challenge-web:latest}"
log "ready: $TEST_DATABASE_URL $TEST_REDIS_URL $DOCKER_HOST (ports on $TEST_ENGINE_HOST)"
