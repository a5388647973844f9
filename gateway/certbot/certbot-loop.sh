#!/bin/sh
# The certbot service of docker/example.compose.certbot.yml: obtains the certificate once through the gateway's
# ACME webroot (HTTP-01), then renews every CERTBOT_RENEW_INTERVAL. The gateway notices new files by itself
# (gateway/entrypoint.sh) and reloads nginx: no Docker socket, no shared process namespace.
#
#   CERTBOT_ENABLED (false)      anything but true: idle, so the service can stay in the file switched off
#   CERTBOT_EMAIL                ACME account e-mail (expiry notices); empty registers without one
#   CERTBOT_PRIMARY_DOMAIN       required; also names the certificate directory the gateway reads
#   CERTBOT_ADDITIONAL_DOMAINS   comma-separated
#   CERTBOT_STAGING (true)       Let's Encrypt's staging CA until you set false (its rate limits are generous)
#   CERTBOT_RENEW_INTERVAL (12h) seconds, or a number with s, m, h or d
#   CERTBOT_RETRY_SECONDS (900)  wait after a failed first request (DNS not pointing here yet, port 80 closed)
set -euf # -f: lists from the environment are split, never globbed

log() { printf 'certbot-loop: %s\n' "$*" >&2; }
fail() {
  log "$*"
  exit 64
}
is_true() { case $(printf '%s' "$1" | tr 'A-Z' 'a-z') in 1 | true | yes | on) return 0 ;; *) return 1 ;; esac; }

if ! is_true "${CERTBOT_ENABLED:-false}"; then
  log "CERTBOT_ENABLED is not true: idle"
  while :; do sleep 86400; done
fi

seconds() { # 12h -> 43200
  n=${1%[smhd]}
  case $n in '' | *[!0-9]*) return 1 ;; esac
  case $1 in *d) echo $((n * 86400)) ;; *h) echo $((n * 3600)) ;; *m) echo $((n * 60)) ;; *) echo "$n" ;; esac
}
INTERVAL=$(seconds "${CERTBOT_RENEW_INTERVAL:-12h}") || fail "CERTBOT_RENEW_INTERVAL='${CERTBOT_RENEW_INTERVAL:-}' must be seconds or a number with s, m, h or d"
[ "$INTERVAL" -ge 60 ] || fail "CERTBOT_RENEW_INTERVAL must be at least 60 seconds"
# Failed validations count against Let's Encrypt's limit (5 per hostname per hour): stay under it.
RETRY=${CERTBOT_RETRY_SECONDS:-900}
case $RETRY in '' | *[!0-9]*) fail "CERTBOT_RETRY_SECONDS='$RETRY' must be a number of seconds" ;; esac

DOMAIN_RE='^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$'
PRIMARY=${CERTBOT_PRIMARY_DOMAIN:-}
printf '%s\n' "$PRIMARY" | grep -Eq "$DOMAIN_RE" || fail "CERTBOT_PRIMARY_DOMAIN='$PRIMARY' must be a domain name"
set -- -d "$PRIMARY"
for d in $(printf '%s' "${CERTBOT_ADDITIONAL_DOMAINS:-}" | tr ',' ' '); do
  printf '%s\n' "$d" | grep -Eq "$DOMAIN_RE" || fail "CERTBOT_ADDITIONAL_DOMAINS: '$d' is not a domain name"
  set -- "$@" -d "$d"
done

CONFIG_DIR=${CERTBOT_CONFIG_DIR:-/etc/letsencrypt}
WEBROOT=${CERTBOT_WEBROOT:-/var/www/certbot}
common="--non-interactive --config-dir $CONFIG_DIR"
if is_true "${CERTBOT_STAGING:-true}"; then mode=staging; else mode=production; fi
account="--agree-tos --register-unsafely-without-email"
[ -z "${CERTBOT_EMAIL:-}" ] || account="--agree-tos --email ${CERTBOT_EMAIL} --no-eff-email"
case ${CERTBOT_EMAIL:-} in *[!A-Za-z0-9@._+-]*) fail "CERTBOT_EMAIL='${CERTBOT_EMAIL}' is not an e-mail address" ;; esac

# A staging certificate is replaced once production is asked for (and the other way round).
marker="$CONFIG_DIR/.gateway-ca-$PRIMARY"
ca=''
[ "$mode" = production ] || ca='--staging'
force=''
if [ -f "$marker" ] && [ "$(cat "$marker")" != "$mode" ]; then
  force='--force-renewal'
  [ "$mode" = production ] || force="$force --break-my-certs"
fi

# Every start: idempotent (--keep-until-expiring), and --expand picks up domains added since.
mkdir -p "$WEBROOT"
# shellcheck disable=SC2086 # word splitting of the option strings is intended
until certbot certonly $common --webroot -w "$WEBROOT" --cert-name "$PRIMARY" $account $ca \
  --keep-until-expiring --expand $force "$@"; do
  log "could not obtain a certificate yet (is the gateway answering on port 80?); retrying in ${RETRY}s"
  sleep "$RETRY"
done
echo "$mode" >"$marker"
log "certificate for $PRIMARY ready ($mode CA); renewing every ${INTERVAL}s"

while :; do
  sleep "$INTERVAL"
  # shellcheck disable=SC2086
  certbot renew $common --webroot -w "$WEBROOT" || log "renewal failed; next attempt in ${INTERVAL}s"
done
