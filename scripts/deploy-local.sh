#!/usr/bin/env bash
# Provision this machine (inventories/dev.py, settings group_vars/dev.yml) on a fresh Debian/Ubuntu
# host, as root: `sandbox-host deploy inventories/dev.py` from the project's venv.
#   scripts/deploy-local.sh                     apply
#   scripts/deploy-local.sh --dry               show the plan per host; change nothing
#   scripts/deploy-local.sh --group-vars DIR    layer a folder of site settings over group_vars/
# The venv is made, or brought up to date, only when it is missing or pyproject.toml changed, so
# a re-run needs no PyPI (a host whose DNS is broken can still be repaired).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/ensure-venv.sh
# Run through sudo from a user's checkout: root writes no .pyc files into it (editable install).
[[ "$(stat -c %u .)" == 0 ]] || export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/sandbox-host deploy inventories/dev.py "$@"
