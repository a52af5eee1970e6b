#!/usr/bin/env bash
# Build a Debian base image locally, for hosts that cannot pull from a registry:
#   scripts/build-base-image.sh [SUITE] [IMAGE]      (defaults: bookworm sandbox-host-base:SUITE)
# debootstrap --variant=minbase from the Debian mirror this machine's apt uses (DEBIAN_MIRROR
# overrides), then `docker import`: the deploy's own recipe, roles/images/files/debootstrap.sh.
# Does nothing when the image already exists (set REBUILD=1 to force).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:-bookworm}
image=${2:-sandbox-host-base:$suite}

if [[ -z "${REBUILD:-}" ]] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image exists"
  exit 0
fi

sh "$repo/roles/images/files/debootstrap.sh" image "$image" "$suite" "${DEBIAN_MIRROR:-}"
echo "built base image $image"
