#!/bin/sh
# Restart Docker Desktop so it reads ~/.docker/daemon.json again, and wait until its daemon answers.
set -eu
timeout=${1:-120}
osascript -e 'quit app "Docker"'
# Docker Desktop takes a moment to quit; open -a starts it again.
i=0
while pgrep -xq "Docker Desktop" && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
open -a Docker
i=0
until docker info >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge "$timeout" ]; then
    echo "Docker Desktop did not answer within ${timeout}s after its restart" >&2
    exit 1
  fi
  sleep 1
done
