#!/usr/bin/env bash
# Make the project's venv (.venv) and install the package into it, only when the venv is missing
# or pyproject.toml (or the extras asked for) changed since the last install: a second run needs
# no network.
#   scripts/ensure-venv.sh            the package
#   scripts/ensure-venv.sh test       the package and its test extras
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
extras=${1:-}
target=.
[[ -n $extras ]] && target=".[$extras]"
stamp=.venv/.sandbox-host-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $target"

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  if ((EUID != 0)); then
    echo "python3-venv is missing: sudo apt-get install python3-venv" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
# Under sudo in a user's own checkout the venv is theirs (made as them, with their HOME for pip's
# cache): root owning .venv would break their next run without sudo.
if ((EUID == 0)) && [[ -n ${SUDO_USER:-} && $SUDO_USER != root && "$(stat -c %U .)" == "$SUDO_USER" ]]; then
  exec runuser -u "$SUDO_USER" -- env HOME="$(getent passwd "$SUDO_USER" | cut -d: -f6)" PATH="$PATH" \
    bash "$repo/scripts/ensure-venv.sh" "$@"
fi
[[ -x .venv/bin/python ]] || python3 -m venv .venv
# An install with extras covers the plain one too.
# Byte-code for the checkout's own modules (the install is editable), made here as the checkout's
# owner: a deploy run through sudo writes none (deploy-local.sh), and would otherwise compile
# ~100 modules from source on every run. Up-to-date files are skipped, so this costs little.
compile_checkout() { .venv/bin/python -m compileall -q sandbox_host roles deploys >/dev/null || true; }
if [[ -f $stamp ]] && { [[ "$(cat "$stamp")" == "$want" ]] || [[ -z $extras && "$(cut -d' ' -f1 "$stamp")" == "${want%% *}" ]]; }; then
  compile_checkout
  exit 0
fi
echo "installing sandbox-host into .venv ($target)"
.venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/pip install -q -e "$target"
echo "$want" >"$stamp"
compile_checkout
