#!/bin/sh
# Writes the Fail2Ban jail for the gateway from the environment, then runs the given command (the image's own
# entrypoint). Fail2Ban reads no environment variables itself, hence this step.
#
#   FAIL2BAN_MAXRETRY (10)  FAIL2BAN_FINDTIME (10m)  FAIL2BAN_BANTIME (1h)  FAIL2BAN_IGNORE_IPS (none)
#   FAIL2BAN_LOGPATH (/var/log/gateway/access.log)  FAIL2BAN_JAIL_FILE (/data/jail.d/gateway.local)
#
# Bans go to the DOCKER-USER chain: traffic to a published port is forwarded to the container, so it never
# crosses INPUT. iptables-allports: the port seen there is the container's (8000/8443), not the public one.
set -euf # -f: lists from the environment are split, never globbed

fail() {
  printf 'fail2ban-gateway: %s\n' "$*" >&2
  exit 64
}
check() {
  case $2 in *'
'*) fail "$1 must be a single line" ;; esac
  printf '%s\n' "$2" | grep -Eq "^($3)\$" || fail "$1='$2' $4"
}

MAXRETRY=${FAIL2BAN_MAXRETRY:-10}
FINDTIME=${FAIL2BAN_FINDTIME:-10m}
BANTIME=${FAIL2BAN_BANTIME:-1h}
IGNORE=${FAIL2BAN_IGNORE_IPS:-}
LOGPATH=${FAIL2BAN_LOGPATH:-/var/log/gateway/access.log}
JAIL=${FAIL2BAN_JAIL_FILE:-/data/jail.d/gateway.local}

check FAIL2BAN_MAXRETRY "$MAXRETRY" '[1-9][0-9]{0,5}' "must be a positive number"
check FAIL2BAN_FINDTIME "$FINDTIME" '[0-9]{1,9}[smhdw]?' "must be a duration such as 10m"
check FAIL2BAN_BANTIME "$BANTIME" '-1|[0-9]{1,9}[smhdw]?' "must be a duration such as 1h, or -1 (forever)"
check FAIL2BAN_LOGPATH "$LOGPATH" '/[A-Za-z0-9._/-]*' "must be an absolute path"
ignore='127.0.0.1/8 ::1'
for ip in $(printf '%s' "$IGNORE" | tr ',' ' '); do
  check FAIL2BAN_IGNORE_IPS "$ip" '[0-9A-Fa-f.:]+(/[0-9]{1,3})?|[A-Za-z0-9.-]+' "must list addresses, CIDRs or host names"
  ignore="$ignore $ip"
done

mkdir -p "$(dirname "$JAIL")"
cat >"$JAIL.tmp" <<JAIL
# Written by render-jail.sh at container start; edit the environment, not this file.
[gateway]
enabled   = true
filter    = gateway
logpath   = $LOGPATH
backend   = polling
maxretry  = $MAXRETRY
findtime  = $FINDTIME
bantime   = $BANTIME
ignoreip  = $ignore
chain     = DOCKER-USER
banaction = iptables-allports
JAIL
mv -f "$JAIL.tmp" "$JAIL"
printf 'fail2ban-gateway: jail written to %s (maxretry %s, findtime %s, bantime %s)\n' "$JAIL" "$MAXRETRY" "$FINDTIME" "$BANTIME" >&2

[ $# -eq 0 ] || exec "$@"
