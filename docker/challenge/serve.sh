#!/bin/sh
# Writes the per-instance details next to the page, then serves it in the foreground.
set -eu
mkdir -p /tmp/www
cp -r /www/. /tmp/www/
printf '%s\n' "${TEAM_ID:-unknown}" > /tmp/www/team.txt
exec httpd -f -p "${PORT:-80}" -h /tmp/www
