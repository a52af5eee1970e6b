#!/bin/sh
# remove-network.sh NETWORK PROBE_LABEL...: remove a Docker network that throwaway probe containers
# (the conformance timer's, diagnose's) may join at any moment. Those probes are removed, then the
# network; a probe that joined in between ("has active endpoints") makes it try again, five times
# at most, a second apart.
set -u
network=$1
shift
tries=1
while :; do
  for label in "$@"; do
    docker ps --quiet --filter "network=$network" --filter "label=$label" | xargs -r docker container rm --force >/dev/null
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
