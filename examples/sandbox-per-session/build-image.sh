#!/usr/bin/env bash
# Builds envworker-example/node-session:latest, the image of the sandbox-per-session example, with
# `docker import`, since there is no registry to pull a node image from: the host's `node` binary,
# the host's `bash` (the session's bash tool runs /bin/bash), the shared libraries `ldd` lists for
# both (the dynamic loader included) at their own paths, busybox-static for /bin/sh and the usual
# tools, an empty /tmp (tsx keeps its cache there), /workspace (the session's work directory) and
# /envworker (where the example bind-mounts the repository). PATH=/usr/local/bin:/usr/bin:/bin.
#
# Idempotent: the image is labelled with a sha256 over node, bash, their libraries and busybox;
# an image built from the same files is kept as it is. Needs the docker CLI and a daemon that answers.
set -euo pipefail

image=envworker-example/node-session:latest
label=envworker.node_session_sha256

node_bin=$(command -v node || true)
if [ -z "$node_bin" ]; then
  echo "build-image: no node on PATH" >&2
  exit 1
fi
node_bin=$(readlink -f "$node_bin")
bash_bin=$(readlink -f /bin/bash)
busybox=""
for candidate in /usr/bin/busybox /bin/busybox; do
  if [ -x "$candidate" ]; then busybox=$candidate; break; fi
done
if [ -z "$busybox" ]; then
  echo "build-image: no busybox found; install busybox-static" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build-image: $busybox is dynamically linked; install busybox-static instead of busybox" >&2
  exit 1
fi

# The libraries node and bash need: every absolute path in ldd's answer (`name => /path (addr)` or,
# for the loader, `/path (addr)`); linux-vdso is in the kernel and has no path.
mapfile -t libraries < <({ ldd "$node_bin"; ldd "$bash_bin"; } | grep -o '/[^ ]*' | sort -u)

sum=$(sha256sum "$node_bin" "$bash_bin" "$busybox" "${libraries[@]}" | sha256sum | cut -d' ' -f1)
current=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null || true)
if [ "$current" = "$sum" ]; then
  echo "build-image: $image is up to date ($sum)"
  exit 0
fi
previous=$(docker image inspect --format '{{ .Id }}' "$image" 2>/dev/null || true)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/usr/local/bin" "$root/tmp" "$root/envworker" "$root/workspace"
chmod 1777 "$root/tmp" "$root/workspace"
cp "$node_bin" "$root/usr/local/bin/node"
for library in "${libraries[@]}"; do
  # Copied at the path ldd found it (symlinks resolved), so the loader finds it where it looks.
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || [ "$applet" = bash ] || ln -s busybox "$root/bin/$applet"
done
# After the applets: busybox may list a `bash` applet, and the real one wins.
cp "$bash_bin" "$root/bin/bash"
tar -C "$root" --owner=0 --group=0 --numeric-owner -c . |
  docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["node", "--version"]' -c "LABEL $label=$sum" - "$image" >/dev/null

# The image it replaced, now untagged, goes too (unless a container still uses it).
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{ .Id }}' "$image")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi
echo "build-image: built $image ($sum)"
