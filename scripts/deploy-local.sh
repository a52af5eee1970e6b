#!/usr/bin/env bash
# Provision this machine (inventories/dev.py, settings group_vars/dev.yml) on a fresh Debian/Ubuntu
# host, as root: creates the project's venv, then runs the deploy. Extra arguments go to pyinfra
# (e.g. --dry to see the plan without changing anything).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
[[ -x .venv/bin/pyinfra ]] || python3 -m venv .venv
.venv/bin/pip install -q -e .
exec .venv/bin/pyinfra -y "$@" inventories/dev.py deploys/sandbox_host.py
