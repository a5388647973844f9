#!/usr/bin/env bash
# The suite's own Docker engines: N private dockerd processes, each in a network namespace of its own, hung on one
# host bridge of the lab's own through veth pairs. Nothing of the machine's own engine is used or changed: each
# engine has its own config file, data root, exec root, pid file, socket and cgroup parent, and the only rule added
# to the host's firewall is one ACCEPT for the lab's bridge (so a system engine's FORWARD DROP does not cut engines
# off from each other). Builds inside the engines reach the package registries through a small HTTP proxy the lab
# runs on its bridge address (egress-proxy.ts): the namespaces get no route out, and the host no NAT rule.
#
#   engine-lab.sh up [LAB] [COUNT]    start (or reuse) engines 1..COUNT of LAB (default: suite 1); prints their env
#   engine-lab.sh env [LAB] [INDEX]   the env lines of one engine: DOCKER_HOST, TEST_ENGINE_HOST (its address),
#                                     TEST_LAB_HOST (the host as the engines reach it), DOCKER_CONFIG
#   engine-lab.sh restart LAB INDEX   stop and start one engine (its containers stay, as with a daemon restart)
#   engine-lab.sh stop LAB INDEX      stop one engine (a node lost); `up` or `restart` brings it back
#   engine-lab.sh swarm LAB COUNT [EGRESS_INDEX]
#                                     engines 1..COUNT form a swarm: 1 is the manager (drained: it runs no
#                                     instance), the others workers. Each node's docker_gwbridge is made first
#                                     without masquerading, except on EGRESS_INDEX, which is labelled
#                                     org.ctf-instancer.egress=true; so is each node's config-only network
#                                     ctfi-shared (for SWARM_SHARED_BRIDGE). Prints the manager's env.
#   engine-lab.sh down [LAB|--all] [--purge]
#                                     stop everything of LAB: processes, mounts, namespaces, veths, bridge, rule;
#                                     --purge also deletes its state (images, containers' files)
#
# LAB is 1–6 lower-case letters or digits. State lives under $TEST_STATE_DIR/labs/LAB (images stay cached there
# across runs); sockets and exec roots under /run/ctfi-lab.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${TEST_STATE_DIR:-/var/tmp/ctf-instancer-test}"
RUN_DIR=/run/ctfi-lab
PROXY_PORT=3128
log() { echo "[engine-lab] $*" >&2; }
die() {
  echo "[engine-lab] error: $*" >&2
  exit 1
}

lab_dir() { echo "$STATE_DIR/labs/$1"; }
bridge() { echo "ctfi-$1"; }
ns() { echo "ctfi-$1-$2"; }
exec_dir() { echo "$RUN_DIR/$1-$2"; }
sock() { echo "$(exec_dir "$1" "$2")/docker.sock"; }
engine_docker() { docker -H "unix://$(sock "$1" "$2")" "${@:3}"; }
answers() { [ -S "$(sock "$1" "$2")" ] && engine_docker "$1" "$2" info >/dev/null 2>&1; }

# One /24 per lab, picked once among 10.231.1.0 … 10.231.254.0 where the host has no address or route, then kept.
subnet() {
  local file
  file="$(lab_dir "$1")/subnet"
  if [ ! -s "$file" ]; then
    local used k
    used="$(ip -4 route show table all; ip -4 -o addr show; cat "$STATE_DIR"/labs/*/subnet 2>/dev/null || true)"
    for k in $(seq 1 254); do
      grep -q "10\.231\.$k\." <<<"$used" || {
        mkdir -p "$(dirname "$file")"
        echo "10.231.$k" >"$file"
        break
      }
    done
  fi
  [ -s "$file" ] || die "no free /24 left in 10.231.0.0/16"
  cat "$file"
}
engine_ip() { echo "$(subnet "$1").$((10 + $2))"; }
gateway_ip() { echo "$(subnet "$1").1"; }

# The FORWARD chain a system engine filters with (DOCKER-USER when it exists), else FORWARD itself.
fw_chain() {
  command -v iptables >/dev/null || return 1
  if iptables -S DOCKER-USER >/dev/null 2>&1; then echo DOCKER-USER; else echo FORWARD; fi
}
rule_add() {
  local chain
  chain="$(fw_chain)" || return 0
  iptables -C "$chain" -i "$(bridge "$1")" -j ACCEPT 2>/dev/null || iptables -I "$chain" -i "$(bridge "$1")" -j ACCEPT
}
rule_del() {
  command -v iptables >/dev/null || return 0
  local chain
  for chain in DOCKER-USER FORWARD; do
    while iptables -D "$chain" -i "$(bridge "$1")" -j ACCEPT 2>/dev/null; do :; done
  done
}

net_up() { # lab index
  local lab="$1" i="$2" br name
  br="$(bridge "$lab")"
  name="$(ns "$lab" "$i")"
  if ! ip link show "$br" >/dev/null 2>&1; then
    ip link add "$br" type bridge
    ip addr add "$(gateway_ip "$lab")/24" dev "$br"
  fi
  ip link set "$br" up
  rule_add "$lab"
  [ -e "/var/run/netns/$name" ] || ip netns add "$name"
  ip link show "$name" >/dev/null 2>&1 || ip link add "$name" type veth peer name eth0 netns "$name"
  ip link set "$name" master "$br" up
  ip -n "$name" link set lo up
  ip -n "$name" addr replace "$(engine_ip "$lab" "$i")/24" dev eth0
  ip -n "$name" link set eth0 up
  # No default route: the lab reaches only its bridge, so a lookup or pull that would leave the lab fails at once
  # (builds go through the proxy on the bridge address) instead of waiting for a timeout.
  ip -n "$name" route del default 2>/dev/null || true
}

start_engine() { # lab index
  local lab="$1" i="$2" dir run log_file pid
  dir="$(lab_dir "$lab")/$i"
  run="$(exec_dir "$lab" "$i")"
  mkdir -p "$dir/data" "$run"
  log_file="$dir/dockerd.log"
  # Its own config file, so the machine's /etc/docker/daemon.json is neither read nor needed; the trust key
  # (written to /etc/docker by default) lives in the lab too.
  cat >"$dir/daemon.json" <<JSON
{
  "deprecated-key-path": "$dir/key.json",
  "default-address-pools": [{ "base": "10.214.0.0/16", "size": 26 }],
  "log-driver": "json-file",
  "log-opts": { "max-size": "1m", "max-file": "2" }
}
JSON
  [ -f "$log_file" ] && mv "$log_file" "$log_file.1"
  # Its own host name too (a UTS namespace): a swarm names its nodes by it.
  nsenter --net="/var/run/netns/$(ns "$lab" "$i")" setsid unshare --uts \
    sh -c 'hostname "$0" && exec "$@"' "$(ns "$lab" "$i")" dockerd \
    --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$run/exec" \
    --pidfile "$run/docker.pid" -H "unix://$(sock "$lab" "$i")" --cgroup-parent "/ctfi-$lab-$i" \
    </dev/null >"$log_file" 2>&1 8>&- &
  pid=$!
  for _ in $(seq 1 120); do
    answers "$lab" "$i" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

engine_up() { # lab index
  local lab="$1" i="$2" store
  answers "$lab" "$i" && return 0
  net_up "$lab" "$i"
  log "starting engine $lab/$i on $(engine_ip "$lab" "$i")"
  start_engine "$lab" "$i" && return 0
  # Debian's docker.io 20.10 can panic at start ("reservePools: index out of range", moby/moby#45057) when a
  # network was being changed as the engine stopped. This engine's networks belonged to tests, which remove them
  # anyway: set its own network store aside and start once more.
  store="$(lab_dir "$lab")/$i/data/network/files/local-kv.db"
  if grep -q reservePools "$(lab_dir "$lab")/$i/dockerd.log" && [ -f "$store" ]; then
    log "engine $lab/$i panicked on its network store (moby/moby#45057); setting it aside"
    mv "$store" "$store.broken-$(date +%s)"
    start_engine "$lab" "$i" && return 0
  fi
  tail -20 "$(lab_dir "$lab")/$i/dockerd.log" >&2 || true
  die "engine $lab/$i did not start, see $(lab_dir "$lab")/$i/dockerd.log"
}

engine_stop() { # lab index
  local lab="$1" i="$2" run pid
  run="$(exec_dir "$lab" "$i")"
  pid="$(cat "$run/docker.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  pkill -KILL -f -- "--exec-root $run/exec" 2>/dev/null || true
  pkill -KILL -f -- "$run/exec/containerd" 2>/dev/null || true
}

# Its containers' processes (in the engine's cgroup parent) are killed and the cgroups removed, deepest first.
engine_cgroups_clear() { # lab index
  local cgroups
  cgroups="$(ls -d /sys/fs/cgroup/*/"ctfi-$1-$2" /sys/fs/cgroup/"ctfi-$1-$2" 2>/dev/null || true)"
  [ -n "$cgroups" ] || return 0
  # shellcheck disable=SC2086
  find $cgroups -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  # shellcheck disable=SC2086
  find $cgroups -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

unmount_under() { # path: every mount below it, deepest first
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

proxy_up() { # lab
  local lab="$1" addr pidfile
  addr="$(gateway_ip "$lab")"
  pidfile="$RUN_DIR/$lab-proxy.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  mkdir -p "$RUN_DIR"
  setsid node "$HERE/egress-proxy.ts" "$addr" "$PROXY_PORT" </dev/null >>"$(lab_dir "$lab")/egress-proxy.log" 2>&1 8>&- &
  echo $! >"$pidfile"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/$addr/$PROXY_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  die "the egress proxy did not start, see $(lab_dir "$lab")/egress-proxy.log"
}

# Docker's client reads proxies from its config file and hands them to builds (and CLI-made containers), so
# apt-get and npm inside a build reach the registries through the lab's proxy.
client_config() { # lab
  local lab="$1" dir
  dir="$(lab_dir "$lab")/client"
  mkdir -p "$dir"
  local proxy="http://$(gateway_ip "$lab"):$PROXY_PORT"
  cat >"$dir/config.json" <<JSON
{ "proxies": { "default": { "httpProxy": "$proxy", "httpsProxy": "$proxy", "noProxy": "localhost,127.0.0.1,::1,$(subnet "$lab").0/24" } } }
JSON
}

SWARM_POOL=10.212.0.0/16 SWARM_POOL_MASK=27 GWBRIDGE_SUBNET=10.213.0.0/20 SHARED_BRIDGE_SUBNET=10.215.0.0/20

# A bridge on one node where instances' tasks never meet (icc off), masquerading only on a node meant for challenges
# with egress; made once, kept across runs. Its name is also the bridge device's.
isolated_bridge() { # lab index masquerade name subnet [network create options]
  local lab="$1" index="$2" masquerade="$3" name="$4" subnet="$5"
  shift 5
  engine_docker "$lab" "$index" network inspect "$name" >/dev/null 2>&1 && return 0
  engine_docker "$lab" "$index" network create "$@" --subnet "$subnet" \
    --opt com.docker.network.bridge.name="$name" \
    --opt com.docker.network.bridge.enable_icc=false \
    --opt com.docker.network.bridge.enable_ip_masquerade="$masquerade" "$name" >/dev/null
}

# The bridge a node's swarm tasks leave (and are reached) through, made before the node joins.
gwbridge() { isolated_bridge "$1" "$2" "$3" docker_gwbridge "$GWBRIDGE_SUBNET" --driver bridge; }

# The config-only network SWARM_SHARED_BRIDGE names, on every node: one-container instances share a bridge made
# from it.
shared_bridge_config() { isolated_bridge "$1" "$2" "$3" ctfi-shared "$SHARED_BRIDGE_SUBNET" --config-only; }

swarm_state() { engine_docker "$1" "$2" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }

swarm_up() { # lab count egress-index
  local lab="$1" count="$2" egress="$3" i token manager node masquerade
  manager="$(engine_ip "$lab" 1)"
  for i in $(seq 1 "$count"); do
    masquerade="$([ "$i" = "$egress" ] && echo true || echo false)"
    shared_bridge_config "$lab" "$i" "$masquerade"
    [ "$(swarm_state "$lab" "$i")" = active ] && continue
    gwbridge "$lab" "$i" "$masquerade"
    if [ "$i" = 1 ]; then
      engine_docker "$lab" 1 swarm init --advertise-addr "$manager" --listen-addr "$manager:2377" \
        --default-addr-pool "$SWARM_POOL" --default-addr-pool-mask-length "$SWARM_POOL_MASK" >/dev/null
    else
      token="$(engine_docker "$lab" 1 swarm join-token -q worker)"
      engine_docker "$lab" "$i" swarm join --token "$token" --advertise-addr "$(engine_ip "$lab" "$i")" \
        --listen-addr "$(engine_ip "$lab" "$i"):2377" "$manager:2377" >/dev/null
    fi
  done
  engine_docker "$lab" 1 node update --availability drain "$(ns "$lab" 1)" >/dev/null
  if [ -n "$egress" ]; then
    engine_docker "$lab" 1 node update --label-add org.ctf-instancer.egress=true "$(ns "$lab" "$egress")" >/dev/null
  fi
  for _ in $(seq 1 120); do
    [ "$(engine_docker "$lab" 1 node ls --format '{{.Status}}' | grep -c Ready)" -ge "$count" ] && return 0
    sleep 0.5
  done
  die "the swarm of lab $lab did not get $count ready nodes"
}

print_env() { # lab index
  echo "DOCKER_HOST=unix://$(sock "$1" "$2")"
  echo "TEST_ENGINE_HOST=$(engine_ip "$1" "$2")"
  echo "TEST_LAB_HOST=$(gateway_ip "$1")"
  echo "DOCKER_CONFIG=$(lab_dir "$1")/client"
}

lab_down() { # lab
  local lab="$1" i
  for nsfile in /var/run/netns/ctfi-"$lab"-*; do
    [ -e "$nsfile" ] || continue
    i="${nsfile##*-}"
    engine_stop "$lab" "$i"
    engine_cgroups_clear "$lab" "$i"
    unmount_under "$(exec_dir "$lab" "$i")"
    unmount_under "$(lab_dir "$lab")/$i/data"
    ip link delete "$(ns "$lab" "$i")" 2>/dev/null || true
    ip netns delete "$(ns "$lab" "$i")" 2>/dev/null || true
    rm -rf "$(exec_dir "$lab" "$i")"
  done
  if [ -s "$RUN_DIR/$lab-proxy.pid" ]; then
    kill "$(cat "$RUN_DIR/$lab-proxy.pid")" 2>/dev/null || true
    rm -f "$RUN_DIR/$lab-proxy.pid"
  fi
  rule_del "$lab"
  ip link delete "$(bridge "$lab")" 2>/dev/null || true
  if [ "$PURGE" = 1 ]; then
    unmount_under "$(lab_dir "$lab")"
    rm -rf "$(lab_dir "$lab")"
  fi
  log "lab $lab is down"
}

valid_lab() { [[ "$1" =~ ^[a-z0-9]{1,6}$ ]] || die "lab name '$1' must be 1-6 lower-case letters or digits"; }

cmd="${1:-}"
shift || true
case "$cmd" in
  up)
    lab="${1:-suite}" count="${2:-1}"
    valid_lab "$lab"
    [[ "$count" =~ ^[1-9]$ ]] || die "COUNT must be 1-9"
    for tool in dockerd nsenter ip setsid node; do command -v "$tool" >/dev/null || die "$tool is required"; done
    mkdir -p "$(lab_dir "$lab")"
    # One `up` of a lab at a time (test files may ask at once); the engines and the proxy it starts do not
    # inherit the lock's descriptor.
    exec 8>"$(lab_dir "$lab")/.lock"
    flock -w 300 8 || die "another engine-lab.sh holds the lock of lab $lab"
    for i in $(seq 1 "$count"); do engine_up "$lab" "$i"; done
    proxy_up "$lab"
    client_config "$lab"
    for i in $(seq 1 "$count"); do print_env "$lab" "$i"; done
    ;;
  env)
    lab="${1:-suite}"
    valid_lab "$lab"
    print_env "$lab" "${2:-1}"
    ;;
  stop)
    valid_lab "${1:?LAB}"
    engine_stop "$1" "${2:?INDEX}"
    ;;
  swarm)
    lab="${1:?LAB}" count="${2:?COUNT}" egress="${3:-}"
    valid_lab "$lab"
    [[ "$count" =~ ^[1-9]$ ]] || die "COUNT must be 1-9"
    [ -z "$egress" ] || [[ "$egress" =~ ^[1-9]$ && "$egress" -le "$count" ]] || die "EGRESS_INDEX must be 1-COUNT"
    "$0" up "$lab" "$count" >/dev/null
    exec 8>"$(lab_dir "$lab")/.lock"
    flock -w 300 8 || die "another engine-lab.sh holds the lock of lab $lab"
    swarm_up "$lab" "$count" "$egress"
    print_env "$lab" 1
    ;;
  restart)
    valid_lab "${1:?LAB}"
    engine_stop "$1" "${2:?INDEX}"
    engine_up "$1" "$2"
    ;;
  down)
    lab=suite PURGE=0
    for arg in "$@"; do
      if [ "$arg" = --purge ]; then PURGE=1; else lab="$arg"; fi
    done
    if [ "$lab" = --all ]; then
      for b in $(ip -o link show type bridge | awk -F': ' '{print $2}' | sed -n 's/^ctfi-//p'); do lab_down "$b"; done
    else
      valid_lab "$lab"
      lab_down "$lab"
    fi
    ;;
  *) die "usage: engine-lab.sh up [LAB] [COUNT] | env [LAB] [INDEX] | restart LAB INDEX | stop LAB INDEX | swarm LAB COUNT [EGRESS_INDEX] | down [LAB|--all] [--purge]" ;;
esac
