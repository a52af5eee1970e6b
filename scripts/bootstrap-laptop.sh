#!/usr/bin/env bash
# From a fresh Debian/Ubuntu laptop to a working agent sandbox, run as yourself (not root):
#   scripts/bootstrap-laptop.sh [--group-vars DIR]...
# It asks for sudo once, for the part that must be root: python3-venv if missing, the host deploy
# (inventories/laptop.py: Docker if missing, daemon settings, images, networks, proxy, launcher)
# and adding you to the docker group. The project's .venv is made as you, and the deploy writes
# nothing into the checkout, so nothing here ends up owned by root. Then it finds your
# credentials (never printed) and runs `agent-sandbox run DIR -- claude --version` as you.
# A second run changes nothing. SANDBOX_HOST_GROUP_VARS (colon-separated folders) layers your own
# settings, as --group-vars does.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
started=$SECONDS

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 2; }

group_vars=()
parse_group_vars() {
  while (($#)); do
    case $1 in
      --group-vars) (($# >= 2)) || die "--group-vars needs a folder"; group_vars+=("$(cd "$2" && pwd)"); shift 2 ;;
      *) die "unknown argument $1 (usage: scripts/bootstrap-laptop.sh [--group-vars DIR]...)" ;;
    esac
  done
}

# --- the privileged part (sudo scripts/bootstrap-laptop.sh --privileged ...) -------------------

privileged() {
  local user=${SUDO_USER:-}
  [[ -n $user && $user != root ]] || die "--privileged is run by the bootstrap through sudo, for a normal user"
  local home
  home=$(getent passwd "$user" | cut -d: -f6)
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3-venv"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  # The venv belongs to the user: made as them, with their HOME (pip's cache).
  runuser -u "$user" -- env HOME="$home" PATH="$PATH" scripts/ensure-venv.sh
  local args=()
  for dir in "${group_vars[@]}"; do args+=(--group-vars "$dir"); done
  # No .pyc files from root in the checkout (the package is installed in editable mode).
  local log
  log=$(mktemp)
  local status=0
  PYTHONDONTWRITEBYTECODE=1 .venv/bin/sandbox-host deploy inventories/laptop.py "${args[@]}" 2>&1 | tee "$log" || status=$?
  # pyinfra's results table ends with "Grand total  HOSTS  SUCCESS  ERROR  NO-CHANGE"; SUCCESS
  # counts operations that changed something ("-" for none).
  local changed
  changed=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '$1 == "Grand" && $2 == "total" {print $4}' | tail -n 1)
  rm -f "$log"
  [[ -z $changed || $changed == - ]] && changed=no || changed="yes ($changed operations)"
  ((status == 0)) || die "the deploy failed (exit $status): see above"
  say "deploy changed something: $changed"
  if id -nG "$user" | tr ' ' '\n' | grep -qx docker; then
    say "$user is in the docker group already"
  else
    usermod -aG docker "$user"
    say "added $user to the docker group (changed)"
  fi
}

# --- the user's part ----------------------------------------------------------------------------

# Where the agent's credentials will come from, named but never shown.
report_credentials() {
  if [[ -n ${ANTHROPIC_API_KEY:-} ]]; then
    say "credentials: \$ANTHROPIC_API_KEY is set (not shown); agent-sandbox uses it and replaces what its state volume holds"
  elif [[ -n ${CLAUDE_CODE_OAUTH_TOKEN:-} ]]; then
    say "credentials: \$CLAUDE_CODE_OAUTH_TOKEN is set (not shown); agent-sandbox uses it and replaces what its state volume holds"
  elif [[ -s $HOME/.claude/.credentials.json ]]; then
    say "credentials: ~/.claude/.credentials.json found (not shown); copied into your state volume on first use"
  else
    say "credentials: none found. Set ANTHROPIC_API_KEY, or CLAUDE_CODE_OAUTH_TOKEN (claude setup-token), or log in with claude (~/.claude/.credentials.json), then: agent-sandbox run DIR"
    return 1
  fi
}

# The settings only this user's run knows: whose UID the agent image takes, and Docker kept as
# installed. Written where the user keeps their config, layered over group_vars/laptop.yml.
write_user_layer() {
  local dir=${XDG_CONFIG_HOME:-$HOME/.config}/sandbox-host/bootstrap
  mkdir -p "$dir"
  {
    echo "# Written by scripts/bootstrap-laptop.sh for $USER; rewritten on every run."
    echo "agent:"
    echo "  host_user: $USER"
    if dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q "install ok installed"; then
      echo "docker_engine:"
      echo "  source: distro  # docker.io is installed: kept"
    fi
  } >"$dir/laptop.yml.new"
  mv "$dir/laptop.yml.new" "$dir/laptop.yml"
  group_vars+=("$dir")
}

in_docker_group_now() { id -nG | tr ' ' '\n' | grep -qx docker; }

# Run a command with the docker group even if this login session predates the membership.
with_docker() {
  if in_docker_group_now; then "$@"; else sg docker -c "$(printf '%q ' "$@")"; fi
}

user_main() {
  ((EUID != 0)) || die "run this as your normal user, not root: it asks for sudo once, where it must"
  # shellcheck source=/dev/null
  [[ -r /etc/os-release ]] && . /etc/os-release
  case " ${ID:-} ${ID_LIKE:-} " in
    *" debian "*|*" ubuntu "*) ;;
    *) die "this bootstrap is for Debian and Ubuntu (found ${PRETTY_NAME:-an unknown system}); macOS: see README, \"macOS laptop\"" ;;
  esac
  local extra
  IFS=: read -r -a extra <<<"${SANDBOX_HOST_GROUP_VARS:-}"
  for dir in "${extra[@]}"; do [[ -n $dir ]] && group_vars+=("$(cd "$dir" && pwd)"); done
  write_user_layer
  local args=(--privileged)
  for dir in "${group_vars[@]}"; do args+=(--group-vars "$dir"); done
  say "the host part needs root: sudo asks for your password once"
  sudo -- "$repo/scripts/bootstrap-laptop.sh" "${args[@]}"

  local owned
  owned=$(find "$repo" -user root -print -quit 2>/dev/null || true)
  [[ -z $owned ]] || say "warning: $owned (and maybe more) in the checkout belongs to root: sudo chown -R $USER: $repo"

  if report_credentials; then
    local probe
    probe=$(mktemp -d)
    say "checking: agent-sandbox run $probe -- claude --version"
    with_docker agent-sandbox run "$probe" -- claude --version
    rmdir "$probe"
  fi
  if ! in_docker_group_now; then
    say "your current login session is not in the docker group yet (this run used sg): log out and back in, or run newgrp docker, before using agent-sandbox"
  fi
  say "done in $((SECONDS - started))s: agent-sandbox run DIR"
}

if [[ ${1:-} == --privileged ]]; then
  shift
  parse_group_vars "$@"
  privileged
else
  parse_group_vars "$@"
  user_main
fi
