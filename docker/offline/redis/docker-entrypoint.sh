#!/bin/sh
# Official-like redis entrypoint: `docker run redis:8 --appendonly yes` runs `redis-server --appendonly yes`;
# any other command runs as given. The official image is built with protected mode off (the container network
# is the boundary); Debian's binary defaults it on, so it is switched off unless the arguments say otherwise.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = "redis-server" ]; then
  case " $* " in
    *" --protected-mode "* | *.conf*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
  if [ "$(id -u)" = "0" ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
  umask 0077
fi
exec "$@"
