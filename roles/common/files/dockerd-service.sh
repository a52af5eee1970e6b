#!/bin/sh
# Start or restart dockerd with the init system that is really there.
#   dockerd-service.sh start TIMEOUT     start dockerd on a host without systemd, wait until it
#                                        answers (at most TIMEOUT seconds)
#   dockerd-service.sh restart INIT      restart dockerd once (INIT: systemd, or anything else for
#                                        a host without systemd); does not wait
# Without systemd as PID 1 (containers, WSL, CI machines): Debian's init script first; if dockerd
# still does not answer (the script can fail where it may not raise ulimits, or dockerd was
# started by hand and the script does not know it), run dockerd directly, detached.
set -u

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_dockerd() {
  service docker start >/dev/null 2>&1 || true
  i=0
  while [ "$i" -lt 10 ]; do
    answers && return 0
    sleep 1; i=$((i + 1))
  done
  if ! pidof dockerd >/dev/null; then
    echo "the init script did not start dockerd: starting it directly (log: /var/log/docker.log)" >&2
    setsid dockerd >>/var/log/docker.log 2>&1 </dev/null &
  fi
}

# A dockerd started outside the init script (by hand, by a CI wrapper) is stopped too.
stop_dockerd() {
  service docker stop >/dev/null 2>&1 || true
  if pidof dockerd >/dev/null; then
    # pidof prints one word per process: split on purpose.
    # shellcheck disable=SC2046
    kill -TERM $(pidof dockerd)
    i=0
    while pidof dockerd >/dev/null && [ "$i" -lt 30 ]; do
      sleep 1; i=$((i + 1))
    done
  fi
}

case ${1:-} in
  start)
    timeout=$2
    start_dockerd
    i=0
    while [ "$i" -lt "$timeout" ]; do
      answers && exit 0
      sleep 1; i=$((i + 1))
    done
    echo "dockerd did not answer within ${timeout}s: see /var/log/docker.log" >&2
    exit 1
    ;;
  restart)
    if [ "$2" = systemd ]; then
      systemctl daemon-reload
      systemctl reset-failed docker.service 2>/dev/null || true
      systemctl restart docker.service
    else
      stop_dockerd
      start_dockerd
    fi
    ;;
  *)
    echo "usage: $0 start TIMEOUT | restart INIT" >&2
    exit 2
    ;;
esac
