#!/bin/sh
# Restart dockerd with a new daemon.json; roll the file back if dockerd does not come back.
#   restart-dockerd.sh PATH TIMEOUT RESTART_LABEL REMOVE_LABELS BRIDGE_OPTIONS COMMAND...
# Containers labelled RESTART_LABEL (their owners recreate them from a spec: the egress proxy,
# credential gateways) are stopped before the restart and started again after it; running probes
# labelled with one of REMOVE_LABELS (space-separated) are removed first (`docker rm -f` waits for
# the removal: a --rm container that exits while dockerd restarts can leave its network endpoint
# behind). Other containers are left alone (live-restore keeps them running). Why not keep ours
# running too (roles/docker_daemon/bridge.py): dockerd rebuilds docker0 from daemon.json only when
# no container runs through the restart, and a container that does keeps a stale NAT mapping to
# dockerd's embedded DNS on its long-lived UDP socket: Squid's lookups hang until it restarts.
# BRIDGE_OPTIONS: "KEY=VALUE ..." that docker0's network options must show afterwards (empty: not
# checked). A probe that started between the removal and the restart (a timer's) keeps the old
# docker0: then the probes are removed and dockerd restarted once more.
# COMMAND... restarts dockerd (roles/common/files/dockerd-service.sh restart INIT). Success: dockerd
# answers within TIMEOUT seconds; the backup install-daemon-json.sh kept (PATH.sandbox-host.bak, or
# the marker PATH.sandbox-host.absent) is dropped. Failure: the new file is kept as
# PATH.sandbox-host.failed, the previous one is restored, dockerd restarted once more, and the
# program exits 1 either way, so nobody mistakes a rolled-back host for a converged one.
set -u
path=$1 timeout=$2 restart_label=$3 remove_labels=$4 bridge_options=$5
shift 5

healthy() {
  i=0
  while [ "$i" -lt "$timeout" ]; do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 1; i=$((i + 1))
  done
  return 1
}

remove_probes() {
  for label in $remove_labels; do
    docker ps --quiet --filter "label=$label" | xargs -r docker rm --force >/dev/null 2>&1
  done
}

bridge_matches() {
  for pair in $bridge_options; do
    have=$(docker network inspect --format "{{index .Options \"${pair%%=*}\"}}" bridge 2>/dev/null)
    # Not shown at all (another Docker's way of showing it): nothing to compare.
    case $have in "" | "<no value>") continue ;; esac
    [ "$have" = "${pair#*=}" ] || return 1
  done
}

remove_probes
containers=$(docker ps --quiet --filter "label=$restart_label" 2>/dev/null)
# Started again whatever happens to the restart: they were running before it. One docker call
# each way: `docker stop` stops its arguments in parallel and goes on past errors.
start_again() {
  # shellcheck disable=SC2086 # a list of container IDs, split on purpose
  [ -z "$containers" ] || docker start $containers >/dev/null 2>&1 || true
}
# shellcheck disable=SC2086
[ -z "$containers" ] || docker stop --time 10 $containers >/dev/null 2>&1 || true
# Whether the restart command itself succeeded does not matter: only an answering dockerd does.
"$@" || true
if healthy; then
  if ! bridge_matches; then
    remove_probes
    "$@" || true
    healthy && ! bridge_matches && echo "docker0 does not show $bridge_options: a container ran through the restart" >&2
  fi
  rm -f "$path.sandbox-host.bak" "$path.sandbox-host.absent"
  start_again
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
  start_again
  echo "rolled back: Docker runs with the previous $path; the rejected one is $path.sandbox-host.failed" >&2
else
  echo "Docker does not start even with the previous $path: see journalctl -u docker / the daemon log" >&2
fi
exit 1
