#!/bin/sh
# Put a staged daemon.json in place, keeping what restart-dockerd.sh needs to roll it back.
#   install-daemon-json.sh STAGED PATH
# The staged file is checked with `dockerd --validate` where this Docker has it (a rejected file
# is removed and PATH stays untouched). The current PATH is kept as PATH.sandbox-host.bak, or,
# when there is none, the marker PATH.sandbox-host.absent says so.
set -u
staged=$1 path=$2

if dockerd --help 2>&1 | grep -q -- --validate; then
  dockerd --validate --config-file "$staged" >/dev/null || {
    echo "dockerd rejects the new $path; the old one is untouched" >&2
    rm -f "$staged"
    exit 1
  }
fi
if [ -e "$path" ]; then
  cp -p "$path" "$path.sandbox-host.bak"
  rm -f "$path.sandbox-host.absent"
else
  rm -f "$path.sandbox-host.bak"
  : >"$path.sandbox-host.absent"
fi
mv "$staged" "$path"
