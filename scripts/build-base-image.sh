#!/usr/bin/env bash
# Build a Debian base image locally, for hosts that cannot pull from a registry:
#   scripts/build-base-image.sh [SUITE] [IMAGE]      (defaults: bookworm sandbox-host-base:SUITE)
# debootstrap --variant=minbase from the Debian mirror this machine's apt uses, then `docker import`.
# Does nothing when the image already exists (set REBUILD=1 to force).
set -euo pipefail
suite=${1:-bookworm}
image=${2:-sandbox-host-base:$suite}

if [[ -z "${REBUILD:-}" ]] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image exists"
  exit 0
fi

# The Debian mirror this machine's apt uses (one-line or deb822 sources), else Debian's CDN.
mirror=${DEBIAN_MIRROR:-$( { grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
  | grep -oE 'https?://[^ ]+' | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

root=$(mktemp -d /var/tmp/base-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -f "$root.log"
# apt in the image uses the same mirror, and keeps no package lists (smaller layers).
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | docker import - "$image" >/dev/null
echo "built base image $image"
