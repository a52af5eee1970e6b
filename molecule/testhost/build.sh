#!/usr/bin/env bash
# Build the test-host image(s) once; Molecule scenarios share them.
#   molecule/testhost/build.sh [SUITE] [EXTRA_PACKAGES...]   -> sandbox-host-testhost:SUITE[-variant]
# Also creates the SSH key the scenarios log in with (.cache/testhost/id_ed25519; create.yml mounts it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
suite=${1:-bookworm}; shift || true
extra="$*"
variant=${TESTHOST_VARIANT:-${extra%% *}}
tag=sandbox-host-testhost:$suite${variant:+-$variant}

key=$repo/.cache/testhost/id_ed25519
if [[ ! -f $key ]]; then
  mkdir -p "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C sandbox-host-tests -f "$key"
fi
"$repo/scripts/build-base-image.sh" "$suite" "sandbox-host-base:$suite"

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/remount-proc-sys.service" "$ctx/"
docker build -q -t "$tag" --build-arg "BASE_IMAGE=sandbox-host-base:$suite" --build-arg "EXTRA_PACKAGES=$extra" "$ctx" >/dev/null
echo "built $tag"
