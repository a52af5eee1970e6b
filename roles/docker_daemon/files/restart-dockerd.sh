#!/bin/sh
# Restart dockerd with a new daemon.json; roll the file back if dockerd does not come back.
#   restart-dockerd.sh PATH TIMEOUT COMMAND...
# COMMAND... restarts dockerd (roles/common/files/dockerd-service.sh restart INIT). Success: dockerd
# answers within TIMEOUT seconds; the backup install-daemon-json.sh kept (PATH.sandbox-host.bak, or
# the marker PATH.sandbox-host.absent) is dropped. Failure: the new file is kept as
# PATH.sandbox-host.failed, the previous one is restored, dockerd restarted once more, and the
# program exits 1 either way, so nobody mistakes a rolled-back host for a converged one.
set -u
path=$1 timeout=$2
shift 2

healthy() {
  i=0
  while [ "$i" -lt "$timeout" ]; do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 1; i=$((i + 1))
  done
  return 1
}

# Whether the restart command itself succeeded does not matter: only an answering dockerd does.
"$@" || true
if healthy; then
  rm -f "$path.sandbox-host.bak" "$path.sandbox-host.absent"
  exit 0
fi
echo "dockerd did not answer within ${timeout}s with the new $path: restoring the previous one" >&2
cp -p "$path" "$path.sandbox-host.failed" 2>/dev/null
if [ -e "$path.sandbox-host.bak" ]; then
  mv "$path.sandbox-host.bak" "$path"
elif [ -e "$path.sandbox-host.absent" ]; then
  rm -f "$path" "$path.sandbox-host.absent"
fi
"$@" || true
if healthy; then
  echo "rolled back: Docker runs with the previous $path; the rejected one is $path.sandbox-host.failed" >&2
else
  echo "Docker does not start even with the previous $path: see journalctl -u docker / the daemon log" >&2
fi
exit 1
