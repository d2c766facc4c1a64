#!/usr/bin/env bash
# Builds the Docker test image envworker-test/busybox:latest from the host's busybox-static with
# `docker import`, since there is no registry to pull an image from: /bin/busybox with a link for
# each applet, empty /tmp and /work, PATH=/bin, CMD sh. The @envworker/runtime-docker tests run it.
#
# Idempotent: the image is labelled with the sha256 of the busybox it holds, and an image built
# from the same busybox is kept as it is. Needs the docker CLI and a daemon that answers.
set -euo pipefail

image=envworker-test/busybox:latest
label=envworker.busybox_sha256

busybox=""
for candidate in /usr/bin/busybox /bin/busybox; do
  if [ -x "$candidate" ]; then busybox=$candidate; break; fi
done
if [ -z "$busybox" ]; then
  echo "build-test-image: no busybox found; install busybox-static" >&2
  exit 1
fi
# A dynamically linked busybox would find no C library in the image.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" >/dev/null 2>&1; then
  echo "build-test-image: $busybox is dynamically linked; install busybox-static instead of busybox" >&2
  exit 1
fi

sum=$(sha256sum "$busybox" | cut -d' ' -f1)
current=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null || true)
if [ "$current" = "$sum" ]; then
  echo "build-test-image: $image is up to date (busybox $sum)"
  exit 0
fi
previous=$(docker image inspect --format '{{ .Id }}' "$image" 2>/dev/null || true)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/work"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
tar -C "$root" --owner=0 --group=0 --numeric-owner -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' -c "LABEL $label=$sum" - "$image" >/dev/null

# The image it replaced, now untagged, goes too (unless a container still uses it).
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{ .Id }}' "$image")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi
echo "build-test-image: built $image (busybox $sum)"
