#!/usr/bin/env bash
# Starts the Docker engine the tests use when none answers, and waits until it does (test-services.sh, and the
# test that restarts the engine). Debian's docker.io 20.10 can panic at start ("reservePools: index out of range",
# moby/moby#45057, fixed in later engines) when a network was being created or removed while the previous engine
# shut down. On this test engine the network store is then set aside and the start tried once more: its networks
# belonged to test instances, which the tests remove anyway.
set -euo pipefail
STATE_DIR="${TEST_STATE_DIR:-/var/tmp/ctf-instancer-test}"
NETWORK_STORE=/var/lib/docker/network/files/local-kv.db
log() { echo "[start-dockerd] $*" >&2; }

docker info >/dev/null 2>&1 && exit 0
mkdir -p "$STATE_DIR"

start() {
  [ -f "$STATE_DIR/dockerd.log" ] && mv "$STATE_DIR/dockerd.log" "$STATE_DIR/dockerd.log.1"
  nohup dockerd >"$STATE_DIR/dockerd.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

log "starting dockerd"
start && exit 0
if grep -q "reservePools" "$STATE_DIR/dockerd.log" && [ -f "$NETWORK_STORE" ]; then
  log "dockerd panicked on its network store (moby/moby#45057); setting it aside and retrying"
  mv "$NETWORK_STORE" "$NETWORK_STORE.broken-$(date +%s)"
  # The bridges and forwarding rules of the forgotten networks would stay behind and slow every later one down.
  for link in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep '^br-' || true); do
    ip link delete "$link" || true
  done
  iptables-save -t filter | grep -E '^-A FORWARD .*br-' | sed 's/^-A /-D /' | while read -r rule; do
    eval "iptables $rule" || true
  done
  start && exit 0
fi
log "dockerd did not start, see $STATE_DIR/dockerd.log"
exit 1
