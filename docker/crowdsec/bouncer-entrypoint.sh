#!/bin/sh
# Writes the firewall bouncer's configuration from the environment, then runs it in the foreground. Extra
# arguments go to the bouncer: `-t` checks the configuration and exits.
#
#   CROWDSEC_BOUNCER_API_KEY (required)   the key the CrowdSec container registers (BOUNCER_KEY_firewall)
#   CROWDSEC_LAPI_URL (http://127.0.0.1:8080/)   the local API, published on loopback by the crowdsec service
#   CROWDSEC_BOUNCER_CHAINS (INPUT,DOCKER-USER)  DOCKER-USER: published ports are forwarded, never cross INPUT
set -euf # -f: lists from the environment are split, never globbed

fail() {
  printf 'crowdsec-bouncer: %s\n' "$*" >&2
  exit 64
}
KEY=${CROWDSEC_BOUNCER_API_KEY:-}
URL=${CROWDSEC_LAPI_URL:-http://127.0.0.1:8080/}
CHAINS=${CROWDSEC_BOUNCER_CHAINS:-INPUT,DOCKER-USER}
CONF=${CROWDSEC_BOUNCER_CONFIG:-/tmp/crowdsec-firewall-bouncer.yaml}

printf '%s\n' "$KEY" | grep -Eq '^[A-Za-z0-9_+/=-]{16,256}$' || fail "CROWDSEC_BOUNCER_API_KEY must be 16-256 characters [A-Za-z0-9_+/=-]"
printf '%s\n' "$URL" | grep -Eq '^https?://[][A-Za-z0-9.:_-]+(/[A-Za-z0-9._/-]*)?$' || fail "CROWDSEC_LAPI_URL='$URL' must be an http(s) URL"

umask 077
{
  echo "mode: iptables"
  echo "pid_dir: /var/run/"
  echo "update_frequency: 10s"
  echo "log_mode: stdout"
  echo "log_level: info"
  echo "api_url: $URL"
  echo "api_key: $KEY"
  echo "disable_ipv6: false"
  echo "deny_action: DROP"
  echo "deny_log: false"
  echo "supported_decisions_types:"
  echo "  - ban"
  echo "iptables_chains:"
  for chain in $(printf '%s' "$CHAINS" | tr ',' ' '); do
    printf '%s\n' "$chain" | grep -Eq '^[A-Za-z0-9_-]{1,28}$' || fail "CROWDSEC_BOUNCER_CHAINS: '$chain' is not a chain name"
    echo "  - $chain"
  done
} >"$CONF"

exec crowdsec-firewall-bouncer -c "$CONF" "$@"
