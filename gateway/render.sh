#!/bin/sh
# Renders the gateway's nginx configuration and maintenance page from the environment.
#
#   render.sh [OUTPUT_DIR]      (default: $GATEWAY_RENDER_DIR, else /tmp/gateway)
#
# POSIX sh + awk + grep, so it runs unchanged in the nginx image (busybox) and on a Debian host (tests).
# Every value that reaches nginx.conf is validated against a strict pattern first (no newline, no `;`, no
# braces): configuration cannot be injected through the environment. Values on the HTML page are escaped by
# the template engine. Exits 64 with a message naming the variable when a value is refused.
set -euf # -f: lists from the environment are split, never globbed

HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATES=${GATEWAY_TEMPLATE_DIR:-$HERE/templates}
OUT=${1:-${GATEWAY_RENDER_DIR:-/tmp/gateway}}
NL='
'

fail() {
  printf 'gateway: %s\n' "$*" >&2
  exit 64
}

# check NAME VALUE ERE HINT: the whole single-line VALUE must match ERE.
check() {
  case $2 in *"$NL"*) fail "$1 must be a single line" ;; esac
  printf '%s\n' "$2" | grep -Eq "^($3)\$" || fail "$1='$2' $4"
}

bool() { # bool NAME VALUE -> prints 1 or nothing
  case $(printf '%s' "$2" | tr 'A-Z' 'a-z') in
    1 | true | yes | on) echo 1 ;;
    0 | false | no | off | '') echo '' ;;
    *) fail "$1='$2' must be true or false" ;;
  esac
}

# port NAME VALUE: the port after the last colon (already matched against PORT_RE) is at most 65535.
port() {
  [ "${2##*:}" -le 65535 ] || fail "$1='$2' has a port above 65535"
}

# list VALUE: comma/space separated -> one item per line, empties dropped
list() { printf '%s\n' "$1" | tr ', ' '\n\n' | grep -v '^$' || true; }

# Octets 0-255 and ports 1-65535 checked here: nginx accepts a port above 65535 in proxy_pass and fails every
# request with a bare 500, and `nginx -t` does not notice.
OCTET='(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])'
IPV4="$OCTET(\\.$OCTET){3}"
PORT_RE='[1-9][0-9]{0,4}'
IPV6='[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*'
HOSTNAME_RE='[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*'
PATH_RE='/[A-Za-z0-9._/-]*'
LISTEN_RE="($PORT_RE|$IPV4:$PORT_RE|\[$IPV6\]:$PORT_RE)"
DURATION_RE='[0-9]{1,6}(ms|s|m|h)?'

# --- upstream and resolver ---------------------------------------------------------------------------
UPSTREAM=${GATEWAY_UPSTREAM:-web:5000}
check GATEWAY_UPSTREAM "$UPSTREAM" "($HOSTNAME_RE|$IPV4|\[$IPV6\]):$PORT_RE" "must be host:port (port 1-65535)"
port GATEWAY_UPSTREAM "$UPSTREAM"
upstream_host=${UPSTREAM%:*}
# A name whose last label is all digits is a mistyped address (300.0.0.1), not something DNS can answer.
case ${upstream_host##*.} in *[!0-9]*) ;; *)
  printf '%s\n' "$upstream_host" | grep -Eq "^$IPV4\$" || fail "GATEWAY_UPSTREAM='$UPSTREAM' is not a valid IPv4 address" ;;
esac

RESOLVER=''
if ! printf '%s\n' "$upstream_host" | grep -Eq "^($IPV4|\[$IPV6\])\$"; then
  # A name: nginx resolves it per request, with the container's DNS (Docker's is 127.0.0.11).
  servers=${GATEWAY_RESOLVER:-$(awk '$1 == "nameserver" && $2 !~ /%/ { print $2 }' /etc/resolv.conf 2>/dev/null || true)}
  for s in $(list "$servers"); do
    check GATEWAY_RESOLVER "$s" "$IPV4|$IPV6|\[$IPV6\]" "must list IP addresses"
    case $s in \[*) ;; *:*) s="[$s]" ;; esac
    RESOLVER="${RESOLVER:+$RESOLVER }$s"
  done
  [ -n "$RESOLVER" ] || fail "GATEWAY_UPSTREAM is a host name but no resolver: set GATEWAY_RESOLVER or /etc/resolv.conf"
fi
RESOLVER_VALID=${GATEWAY_RESOLVER_VALID:-10s}
check GATEWAY_RESOLVER_VALID "$RESOLVER_VALID" "$DURATION_RE" "must be a duration such as 10s"

# --- listening and limits --------------------------------------------------------------------------------
LISTEN=${GATEWAY_LISTEN:-8000}
check GATEWAY_LISTEN "$LISTEN" "$LISTEN_RE" "must be a port or address:port (port 1-65535)"
port GATEWAY_LISTEN "$LISTEN"
TLS_LISTEN=${GATEWAY_TLS_LISTEN:-8443}
check GATEWAY_TLS_LISTEN "$TLS_LISTEN" "$LISTEN_RE" "must be a port or address:port (port 1-65535)"
port GATEWAY_TLS_LISTEN "$TLS_LISTEN"
MAX_BODY_SIZE=${GATEWAY_MAX_BODY_SIZE:-16k}
check GATEWAY_MAX_BODY_SIZE "$MAX_BODY_SIZE" '[0-9]{1,9}[km]?' "must be a size such as 16k"
RATE_LIMIT=${GATEWAY_RATE_LIMIT:-20r/s}
check GATEWAY_RATE_LIMIT "$RATE_LIMIT" '[1-9][0-9]{0,5}r/[sm]' "must be a rate such as 20r/s (at least 1)"
RATE_BURST=${GATEWAY_RATE_BURST:-40}
check GATEWAY_RATE_BURST "$RATE_BURST" '[0-9]{1,6}' "must be a number"
# nginx refuses `burst=0`; no burst is said by leaving the parameter out.
RATE_BURST_PARAM=''
[ "$RATE_BURST" -eq 0 ] || RATE_BURST_PARAM=" burst=$RATE_BURST"
PROXY_CONNECT_TIMEOUT=${GATEWAY_PROXY_CONNECT_TIMEOUT:-2s}
check GATEWAY_PROXY_CONNECT_TIMEOUT "$PROXY_CONNECT_TIMEOUT" "$DURATION_RE" "must be a duration such as 2s"
# Above the API's own bounded wait on /assign (ASSIGN_WAIT_SECONDS, 30 s by default).
PROXY_READ_TIMEOUT=${GATEWAY_PROXY_READ_TIMEOUT:-60s}
check GATEWAY_PROXY_READ_TIMEOUT "$PROXY_READ_TIMEOUT" "$DURATION_RE" "must be a duration such as 60s"
RETRY_AFTER_SECONDS=${GATEWAY_RETRY_AFTER_SECONDS:-30}
# At least 1: the page reloads itself after this many seconds, and 0 would reload every open tab in a loop.
check GATEWAY_RETRY_AFTER_SECONDS "$RETRY_AFTER_SECONDS" '[1-9][0-9]{0,4}' "must be a number of seconds (at least 1)"

TRUSTED_PROXIES=''
for cidr in $(list "${GATEWAY_TRUSTED_PROXIES:-}"); do
  check GATEWAY_TRUSTED_PROXIES "$cidr" "($IPV4|$IPV6)(/[0-9]{1,3})?" "must list addresses or CIDRs"
  TRUSTED_PROXIES="$TRUSTED_PROXIES  set_real_ip_from $cidr;$NL"
done
TRUSTED_PROXIES=${TRUSTED_PROXIES%"$NL"}
RATE_EXEMPT=''
for cidr in $(list "${GATEWAY_RATE_LIMIT_EXEMPT:-}"); do
  check GATEWAY_RATE_LIMIT_EXEMPT "$cidr" "($IPV4|$IPV6)(/[0-9]{1,3})?" "must list addresses or CIDRs"
  RATE_EXEMPT="$RATE_EXEMPT    $cidr 1;$NL"
done
RATE_EXEMPT=${RATE_EXEMPT%"$NL"}

# --- process, files and logs ------------------------------------------------------------------------------
check GATEWAY_RENDER_DIR "$OUT" "$PATH_RE" "must be an absolute path"
FLAG_DIR=${GATEWAY_FLAG_DIR:-/run/gateway-flags}
check GATEWAY_FLAG_DIR "$FLAG_DIR" "$PATH_RE" "must be an absolute path"
FLAG_FILE="${FLAG_DIR%/}/maintenance.on"
WORKER_USER=${GATEWAY_WORKER_USER:-}
[ -z "$WORKER_USER" ] || check GATEWAY_WORKER_USER "$WORKER_USER" '[a-z_][a-z0-9_-]*( [a-z_][a-z0-9_-]*)?' "must be 'user' or 'user group'"
WORKER_PROCESSES=${GATEWAY_WORKER_PROCESSES:-auto}
check GATEWAY_WORKER_PROCESSES "$WORKER_PROCESSES" 'auto|[0-9]{1,3}' "must be auto or a number"
ERROR_LOG=${GATEWAY_ERROR_LOG:-stderr}
check GATEWAY_ERROR_LOG "$ERROR_LOG" "stderr|$PATH_RE" "must be stderr or an absolute path"
LOG_LEVEL=${GATEWAY_LOG_LEVEL:-warn}
check GATEWAY_LOG_LEVEL "$LOG_LEVEL" 'debug|info|notice|warn|error|crit' "must be an nginx log level"
ACCESS_LOGS=''
for target in $(list "${GATEWAY_ACCESS_LOG-/dev/stdout}"); do
  if [ "$target" = off ]; then ACCESS_LOGS=''; break; fi
  check GATEWAY_ACCESS_LOG "$target" "$PATH_RE" "must be off or absolute paths"
  ACCESS_LOGS="$ACCESS_LOGS  access_log $target gateway;$NL"
done
ACCESS_LOGS=${ACCESS_LOGS%"$NL"}
[ -n "$ACCESS_LOGS" ] || ACCESS_LOGS='  access_log off;'

# --- TLS (certbot option) ----------------------------------------------------------------------------------
CERTBOT_ENABLED=$(bool CERTBOT_ENABLED "${CERTBOT_ENABLED:-false}")
FORCE_HTTPS=$(bool CERTBOT_FORCE_HTTPS "${CERTBOT_FORCE_HTTPS:-false}")
CERTBOT_WEBROOT=${CERTBOT_WEBROOT:-/var/www/certbot}
check CERTBOT_WEBROOT "$CERTBOT_WEBROOT" "$PATH_RE" "must be an absolute path"
PRIMARY_DOMAIN=${CERTBOT_PRIMARY_DOMAIN:-}
CERT_DIR='' SERVER_NAMES='' HTTPS_HOST_MAP='' HTTPS_ACTIVE='' HTTPS_REDIRECT='' HTTPS_PORT_SUFFIX=''
if [ -n "$CERTBOT_ENABLED" ]; then
  check CERTBOT_PRIMARY_DOMAIN "$PRIMARY_DOMAIN" "$HOSTNAME_RE" "must be a domain name"
  SERVER_NAMES=$PRIMARY_DOMAIN
  HTTPS_HOST_MAP="    $PRIMARY_DOMAIN $PRIMARY_DOMAIN;"
  for d in $(list "${CERTBOT_ADDITIONAL_DOMAINS:-}"); do
    check CERTBOT_ADDITIONAL_DOMAINS "$d" "$HOSTNAME_RE" "must list domain names"
    SERVER_NAMES="$SERVER_NAMES $d"
    HTTPS_HOST_MAP="$HTTPS_HOST_MAP$NL    $d $d;"
  done
  # certbot names the certificate directory after the first domain it was asked for.
  CERT_LIVE_DIR=${CERTBOT_CERT_DIR:-/etc/letsencrypt/live}
  check CERTBOT_CERT_DIR "$CERT_LIVE_DIR" "$PATH_RE" "must be an absolute path"
  CERT_DIR="${CERT_LIVE_DIR%/}/$PRIMARY_DOMAIN"
  # HTTPS only once a certificate exists: until then nginx must start with HTTP alone to answer the challenge.
  if [ -s "$CERT_DIR/fullchain.pem" ] && [ -s "$CERT_DIR/privkey.pem" ]; then
    HTTPS_ACTIVE=1
    HTTPS_REDIRECT=$FORCE_HTTPS
  fi
  HTTPS_PORT=${GATEWAY_PUBLIC_HTTPS_PORT:-443}
  check GATEWAY_PUBLIC_HTTPS_PORT "$HTTPS_PORT" "$PORT_RE" "must be a port (1-65535)"
  port GATEWAY_PUBLIC_HTTPS_PORT "$HTTPS_PORT"
  [ "$HTTPS_PORT" = 443 ] || HTTPS_PORT_SUFFIX=":$HTTPS_PORT"
fi

# --- instances' web names (CHALLENGE_DOMAIN) ---------------------------------------------------------------------
CHALLENGE_DOMAIN=${CHALLENGE_DOMAIN:-}
CHALLENGE_DOMAIN_RE='' ROUTE_TOKEN='' ROUTE_CACHE='' ROUTE_HOSTS='' ROUTE_TLS='' ROUTE_TLS_CERTIFICATE='' ROUTE_TLS_CERTIFICATE_KEY=''
ROUTE_MAX_BODY_SIZE=${GATEWAY_ROUTE_MAX_BODY_SIZE:-10m}
ROUTE_READ_TIMEOUT=${GATEWAY_ROUTE_READ_TIMEOUT:-1h}
if [ -n "$CHALLENGE_DOMAIN" ]; then
  # The API's own rule for CHALLENGE_DOMAIN: lower-case labels, a final label of letters.
  check CHALLENGE_DOMAIN "$CHALLENGE_DOMAIN" '([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}' "must be a lower-case DNS name"
  # Dots as [.] in the server_name regex: no backslash to survive sh, awk and nginx quoting.
  CHALLENGE_DOMAIN_RE=$(printf '%s\n' "$CHALLENGE_DOMAIN" | awk '{ gsub(/[.]/, "[.]"); print }')
  # The secret the API checks on every lookup (GET /routes/:route); from a file (a Compose secret) when given.
  if [ -n "${GATEWAY_ROUTE_TOKEN_FILE:-}" ]; then
    [ -r "$GATEWAY_ROUTE_TOKEN_FILE" ] || fail "GATEWAY_ROUTE_TOKEN_FILE: cannot read $GATEWAY_ROUTE_TOKEN_FILE"
    ROUTE_TOKEN=$(tr -d '\r\n' <"$GATEWAY_ROUTE_TOKEN_FILE")
  else
    ROUTE_TOKEN=${GATEWAY_ROUTE_TOKEN:-}
  fi
  [ -n "$ROUTE_TOKEN" ] || fail "CHALLENGE_DOMAIN is set but GATEWAY_ROUTE_TOKEN (or GATEWAY_ROUTE_TOKEN_FILE) is not"
  # Never echoed: a refused token is described, not shown.
  printf '%s\n' "$ROUTE_TOKEN" | grep -Eq '^[A-Za-z0-9._~+/=-]{32,256}$' ||
    fail "GATEWAY_ROUTE_TOKEN must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -"
  check GATEWAY_ROUTE_MAX_BODY_SIZE "$ROUTE_MAX_BODY_SIZE" '[0-9]{1,9}[km]?' "must be a size such as 10m"
  check GATEWAY_ROUTE_READ_TIMEOUT "$ROUTE_READ_TIMEOUT" "$DURATION_RE" "must be a duration such as 1h"
  ROUTE_CACHE=$(bool GATEWAY_ROUTE_CACHE "${GATEWAY_ROUTE_CACHE:-true}")
  # nginx resolves a name in proxy_pass through DNS only, never /etc/hosts: an upstream the API names by a hosts
  # entry (Compose's host.docker.internal, where the worker reaches published ports) is rewritten to its address.
  # Patterns without {n} intervals, which Debian's mawk lacks; a name can only hold characters safe in nginx.conf.
  ROUTE_HOSTS=$(awk '
    BEGIN { ip_re = "^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$"; name_re = "^[A-Za-z0-9][A-Za-z0-9.-]*$" }
    $1 ~ ip_re { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i ~ name_re && !seen[$i]++) {
      re = $i; gsub(/[.]/, "[.]", re)
      printf "    \"~^%s:(?<gw_route_port>[0-9]+)$\" \"%s:$gw_route_port\";\n", re, $1 } }
  ' "${GATEWAY_HOSTS_FILE:-/etc/hosts}" 2>/dev/null || true)
  ROUTE_HOSTS=${ROUTE_HOSTS%"$NL"}
  ROUTE_TLS_CERTIFICATE=${GATEWAY_ROUTE_TLS_CERTIFICATE:-}
  ROUTE_TLS_CERTIFICATE_KEY=${GATEWAY_ROUTE_TLS_CERTIFICATE_KEY:-}
  if [ -n "$ROUTE_TLS_CERTIFICATE$ROUTE_TLS_CERTIFICATE_KEY" ]; then
    check GATEWAY_ROUTE_TLS_CERTIFICATE "$ROUTE_TLS_CERTIFICATE" "$PATH_RE" "must be an absolute path (with GATEWAY_ROUTE_TLS_CERTIFICATE_KEY)"
    check GATEWAY_ROUTE_TLS_CERTIFICATE_KEY "$ROUTE_TLS_CERTIFICATE_KEY" "$PATH_RE" "must be an absolute path (with GATEWAY_ROUTE_TLS_CERTIFICATE)"
    ROUTE_TLS=1
  fi
fi

# --- maintenance page contact: free text, HTML-escaped by the template engine ------------------------------
CONTACT_EMAIL=${MAINTENANCE_CONTACT_EMAIL:-}
CONTACT_LABEL=${MAINTENANCE_CONTACT_LABEL:-}
CONTACT_LINK=${MAINTENANCE_CONTACT_LINK:-}
text() { # text NAME VALUE: free text on one line, bounded
  case $2 in *"$NL"*) fail "$1 must be a single line" ;; esac
  [ "${#2}" -le 256 ] || fail "$1 is longer than 256 characters"
}
text MAINTENANCE_CONTACT_EMAIL "$CONTACT_EMAIL"
text MAINTENANCE_CONTACT_LABEL "$CONTACT_LABEL"
text MAINTENANCE_CONTACT_LINK "$CONTACT_LINK"
# Escaping keeps the markup intact; the scheme check keeps javascript: and data: out of the href.
[ -z "$CONTACT_LINK" ] || printf '%s\n' "$CONTACT_LINK" | grep -Eiq '^(https?://|mailto:)' ||
  fail "MAINTENANCE_CONTACT_LINK must start with https://, http:// or mailto:"
HAS_CONTACT=''
[ -z "$CONTACT_EMAIL$CONTACT_LABEL$CONTACT_LINK" ] || HAS_CONTACT=1

# --- render ----------------------------------------------------------------------------------------------------
export GWR_RENDER_DIR="${OUT%/}" GWR_UPSTREAM="$UPSTREAM" GWR_RESOLVER="$RESOLVER" GWR_RESOLVER_VALID="$RESOLVER_VALID" \
  GWR_LISTEN="$LISTEN" GWR_TLS_LISTEN="$TLS_LISTEN" GWR_MAX_BODY_SIZE="$MAX_BODY_SIZE" GWR_RATE_LIMIT="$RATE_LIMIT" \
  GWR_RATE_BURST_PARAM="$RATE_BURST_PARAM" GWR_RATE_EXEMPT="$RATE_EXEMPT" GWR_TRUSTED_PROXIES="$TRUSTED_PROXIES" \
  GWR_PROXY_CONNECT_TIMEOUT="$PROXY_CONNECT_TIMEOUT" GWR_PROXY_READ_TIMEOUT="$PROXY_READ_TIMEOUT" \
  GWR_RETRY_AFTER_SECONDS="$RETRY_AFTER_SECONDS" GWR_FLAG_FILE="$FLAG_FILE" GWR_WORKER_USER="$WORKER_USER" \
  GWR_WORKER_PROCESSES="$WORKER_PROCESSES" GWR_ERROR_LOG="$ERROR_LOG" GWR_LOG_LEVEL="$LOG_LEVEL" \
  GWR_ACCESS_LOGS="$ACCESS_LOGS" GWR_CERTBOT_ENABLED="$CERTBOT_ENABLED" GWR_CERTBOT_WEBROOT="$CERTBOT_WEBROOT" \
  GWR_PRIMARY_DOMAIN="$PRIMARY_DOMAIN" GWR_SERVER_NAMES="$SERVER_NAMES" GWR_HTTPS_HOST_MAP="$HTTPS_HOST_MAP" \
  GWR_CERT_DIR="$CERT_DIR" GWR_HTTPS_ACTIVE="$HTTPS_ACTIVE" GWR_HTTPS_REDIRECT="$HTTPS_REDIRECT" \
  GWR_HTTPS_PORT_SUFFIX="$HTTPS_PORT_SUFFIX" GWR_HAS_CONTACT="$HAS_CONTACT" GWR_CONTACT_EMAIL="$CONTACT_EMAIL" \
  GWR_CONTACT_LABEL="$CONTACT_LABEL" GWR_CONTACT_LINK="$CONTACT_LINK" GWR_CONTACT_LINK_TEXT="${CONTACT_LABEL:-$CONTACT_LINK}" \
  GWR_CHALLENGE_DOMAIN="$CHALLENGE_DOMAIN" GWR_CHALLENGE_DOMAIN_RE="$CHALLENGE_DOMAIN_RE" GWR_ROUTE_TOKEN="$ROUTE_TOKEN" \
  GWR_ROUTE_MAX_BODY_SIZE="$ROUTE_MAX_BODY_SIZE" GWR_ROUTE_READ_TIMEOUT="$ROUTE_READ_TIMEOUT" GWR_ROUTE_TLS="$ROUTE_TLS" \
  GWR_ROUTE_CACHE="$ROUTE_CACHE" GWR_ROUTE_HOSTS="$ROUTE_HOSTS" \
  GWR_ROUTE_TLS_CERTIFICATE="$ROUTE_TLS_CERTIFICATE" GWR_ROUTE_TLS_CERTIFICATE_KEY="$ROUTE_TLS_CERTIFICATE_KEY"

mkdir -p "$OUT/www" "$OUT/temp"
# render TEMPLATE TARGET [html]: write beside the target, then rename, so nginx never reads a half-written file.
render() {
  awk -v html="${3:-0}" -f "$HERE/template.awk" "$TEMPLATES/$1" >"$2.tmp" || {
    rm -f "$2.tmp"
    fail "cannot render $1"
  }
  chmod 0644 "$2.tmp"
  mv -f "$2.tmp" "$2"
}
render nginx.conf.tmpl "$OUT/nginx.conf"
render app.conf.tmpl "$OUT/app.conf"
render maintenance.html.tmpl "$OUT/www/maintenance.html" 1
if [ -n "$CHALLENGE_DOMAIN" ]; then
  render route.conf.tmpl "$OUT/route.conf"
  render no-route.html.tmpl "$OUT/www/no-route.html" 1
fi
# Workers run unprivileged and must read the page.
chmod 0755 "$OUT" "$OUT/www"
https=off
[ -z "$HTTPS_ACTIVE" ] || https=on
printf 'gateway: rendered %s (upstream %s, https %s)\n' "$OUT" "$UPSTREAM" "$https" >&2
