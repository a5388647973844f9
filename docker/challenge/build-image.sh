#!/usr/bin/env bash
# Builds the sample challenge image without any image registry.
# When `busybox:stable` is not in the engine (and cannot be pulled), it is made locally from Debian's
# busybox-static: a root filesystem of one static binary and its applet links, imported with `docker import`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${CHALLENGE_IMAGE:-ctf-instancer/challenge-web:latest}"
BASE="busybox:stable"

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  BUSYBOX="$(command -v busybox || true)"
  if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
    BUSYBOX=/bin/busybox
  fi
  [ -x "$BUSYBOX" ] || { echo "busybox-static is required to build $BASE locally (apt-get install busybox-static)" >&2; exit 1; }
  ROOTFS="$(mktemp -d)"
  trap 'rm -rf "$ROOTFS"' EXIT
  mkdir -p "$ROOTFS"/{bin,tmp,etc,www}
  chmod 1777 "$ROOTFS/tmp"
  cp "$BUSYBOX" "$ROOTFS/bin/busybox"
  for applet in $("$ROOTFS/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$ROOTFS/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOTFS/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >> "$ROOTFS/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$ROOTFS/etc/group"
  tar -C "$ROOTFS" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$BASE" >/dev/null
  echo "built $BASE from $BUSYBOX" >&2
fi

DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$HERE" >/dev/null
echo "$IMAGE"
