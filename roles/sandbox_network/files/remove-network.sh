#!/bin/sh
# remove-network.sh NETWORK PROBE_LABEL...: remove a Docker network that throwaway probe containers
# (the conformance timer's, diagnose's) may join at any moment. Those probes are removed, then the
# network; a probe that joined in between ("has active endpoints") makes it try again, five times
# at most, a second apart. An endpoint whose container no longer exists (left behind when a
# container went away while dockerd restarted: `docker network inspect` lists it, `docker ps -a`
# does not) is disconnected by force, the way Docker's own error message suggests.
set -u
network=$1
shift
tries=1
while :; do
  for label in "$@"; do
    docker ps --quiet --filter "network=$network" --filter "label=$label" | xargs -r docker container rm --force >/dev/null
  done
  for endpoint in $(docker network inspect --format '{{range .Containers}}{{.Name}} {{end}}' "$network" 2>/dev/null); do
    if ! docker container inspect "$endpoint" >/dev/null 2>&1; then
      docker network disconnect --force "$network" "$endpoint" >/dev/null 2>&1 || true
    fi
  done
  if out=$(docker network rm "$network" 2>&1); then
    exit 0
  fi
  if [ "$tries" -ge 5 ]; then
    echo "$0: $out" >&2
    exit 1
  fi
  tries=$((tries + 1))
  sleep 1
done
