#!/bin/sh
# Gateway container entrypoint: render the configuration from the environment, then run nginx in the foreground.
#
#   entrypoint.sh                 renders into $GATEWAY_RENDER_DIR and runs nginx with the rendered nginx.conf
#   entrypoint.sh nginx ARGS...   same, with the given command line (tests pass their own prefix and paths)
#
# With CERTBOT_ENABLED, a watcher re-renders and reloads nginx (SIGHUP) when the certificate appears or is
# renewed: HTTP alone until certbot has a certificate, HTTPS after, with no restart and no Docker socket.
set -euf # -f: lists from the environment are split, never globbed

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${GATEWAY_RENDER_DIR:-/tmp/gateway}
export GATEWAY_RENDER_DIR="$OUT"
"$HERE/render.sh" "$OUT"
[ $# -gt 0 ] || set -- nginx -c "$OUT/nginx.conf" -g 'daemon off;'

log() { printf 'gateway: %s\n' "$*" >&2; }

cert_state() {
  dir="${CERTBOT_CERT_DIR:-/etc/letsencrypt/live}/${CERTBOT_PRIMARY_DOMAIN:-}"
  for f in "$dir/fullchain.pem" "$dir/privkey.pem"; do
    if [ -s "$f" ]; then cksum <"$f"; else echo none; fi
  done
}

# Runs beside nginx; `exec` below keeps this shell's pid, so $1 is the nginx master.
watch_certificate() {
  master=$1 interval=$2 last=$(cert_state)
  while sleep "$interval" && kill -0 "$master" 2>/dev/null; do
    now=$(cert_state)
    [ "$now" != "$last" ] || continue
    last=$now
    if "$HERE/render.sh" "$OUT"; then
      log "certificate changed: configuration re-rendered, reloading nginx"
      kill -HUP "$master" 2>/dev/null || true
    fi
  done
}

case $(printf '%s' "${CERTBOT_ENABLED:-false}" | tr 'A-Z' 'a-z') in
  1 | true | yes | on)
    interval=${GATEWAY_CERT_CHECK_INTERVAL:-60}
    case $interval in '' | *[!0-9]*) log "GATEWAY_CERT_CHECK_INTERVAL='$interval' must be a number of seconds"; exit 64 ;; esac
    watch_certificate $$ "$interval" </dev/null &
    ;;
esac

exec "$@"
