#!/usr/bin/env bash
# Everything the tests need on a fresh Debian 12 machine (run as root): packages, a running
# dockerd, the project's venv, the locally built base image (saved for loading into test hosts)
# and the test-host images. Idempotent: a second run only checks.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

need=()
for pkg in docker.io debootstrap python3-venv openssh-client iptables shellcheck; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  if [[ "$(cat /proc/1/comm)" == systemd ]]; then
    systemctl start docker
    for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 1; done
  else
    # No systemd as PID 1 (CI machines, containers): as the deploy starts it there.
    sh roles/common/files/dockerd-service.sh start 60
  fi
  docker version --format 'dockerd {{.Server.Version}} is up'
fi

scripts/ensure-venv.sh test

scripts/build-base-image.sh bookworm sandbox-host-base:bookworm
mkdir -p .cache/images
archive=.cache/images/sandbox-host-base-bookworm.tar
id=$(docker image inspect -f '{{.Id}}' sandbox-host-base:bookworm)
if [[ ! -f $archive.id || "$(cat "$archive.id")" != "$id" ]]; then
  docker save -o "$archive" sandbox-host-base:bookworm
  echo "$id" >"$archive.id"
fi
# The trixie scenario's air-gapped agent build: tarballs and a base holding the agent's packages.
scripts/airgap-test-inputs.sh

molecule/testhost/build.sh bookworm
molecule/testhost/build.sh bookworm firewalld
molecule/testhost/build.sh bookworm ufw
molecule/testhost/build.sh trixie
# Fleet hosts come with Docker installed (the fleet scenario proves drift and rollout, not the
# install, which every other scenario proves): five apt installs less per CI run.
TESTHOST_VARIANT=docker molecule/testhost/build.sh bookworm docker.io
# Self-contained firewall test hosts of tests/integration (pyinfra's @docker connector).
for fw in firewalld ufw; do
  docker build -q -f tests/integration/images/firewall-testhost.Dockerfile --build-arg "FIREWALL=$fw" \
    -t "sandbox-host-testhost-$fw:bookworm" tests/integration/images >/dev/null
done
