#!/bin/sh
# Start dockerd on a host where it did not answer when the deploy was planned, after the deploy
# has written its configuration (daemon.json, proxy drop-in): a dockerd stopped by a bad
# daemon.json is repaired by the config, not blocked by it. When dockerd still does not start,
# say why: its own last error lines, `dockerd --validate` where this Docker has it, and the
# daemon.json keys this project does not manage that dockerd's error names.
# Usage: start_dockerd.sh INIT(systemd|other) DAEMON_JSON TIMEOUT MANAGED_KEY...
set -u
init=$1 path=$2 timeout=$3
shift 3
managed=" $* "

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ "$init" = systemd ]; then
  systemctl daemon-reload
  systemctl reset-failed docker.service docker.socket 2>/dev/null || true
  systemctl enable docker.service >/dev/null 2>&1 || true
  # restart: a dockerd the package's postinst just started runs with the config before ours.
  systemctl restart docker.service 2>/dev/null || true
else
  service docker stop >/dev/null 2>&1 || true
  service docker start >/dev/null 2>&1 || true
fi
i=0
while [ "$i" -lt "$timeout" ]; do
  if answers; then
    # Started with the new file: the copy of the old one (and its absence marker), kept by
    # install-daemon-json.sh for a rollback, has no use any more.
    rm -f "$path.sandbox-host.bak" "$path.sandbox-host.absent"
    exit 0
  fi
  if [ "$init" != systemd ] && [ "$i" -eq 10 ] && ! pidof dockerd >/dev/null; then
    # The init script could not start it (containers, WSL): start it directly.
    setsid dockerd >>/var/log/docker.log 2>&1 </dev/null &
  fi
  sleep 1
  i=$((i + 1))
done

echo "dockerd does not start with $path (waited ${timeout}s). Its last errors:" >&2
if [ "$init" = systemd ]; then
  log=$(journalctl -u docker.service -n 40 --no-pager -o cat 2>&1)
else
  log=$(tail -n 40 /var/log/docker.log 2>/dev/null)
fi
errors=$(printf '%s\n' "$log" | grep -i -E 'level=(error|fatal)|failed to start|unable to configure|invalid|conflict|cannot' | tail -n 5)
printf '%s\n' "${errors:-$(printf '%s\n' "$log" | tail -n 5)}" | sed 's/^/  /' >&2
if dockerd --help 2>&1 | grep -q -- --validate; then
  dockerd --validate --config-file "$path" 2>&1 | sed 's/^/  dockerd --validate: /' >&2
fi
# Top-level keys of the file as the deploy renders it (sorted, two-space indent).
unmanaged=""
keys=$(sed -n 's/^  "\([^"]*\)":.*/\1/p' "$path" 2>/dev/null)
while IFS= read -r key; do
  [ -n "$key" ] || continue
  case $managed in *" $key "*) continue ;; esac
  if printf '%s\n' "$errors" | grep -q -i -w -- "$key"; then
    echo "$path: key \"$key\" (not managed by sandbox-host) is named in dockerd's error: remove it, or set the value you need through docker_daemon.extra" >&2
  else
    unmanaged="$unmanaged $key"
  fi
done <<KEYS
$keys
KEYS
if grep -q '"iptables": false' "$path" 2>/dev/null && grep -q '"icc": false' "$path" 2>/dev/null; then
  echo "$path: \"iptables\": false with \"icc\": false: dockerd cannot disable inter-container traffic without iptables; remove \"iptables\": false" >&2
fi
if [ -n "$unmanaged" ]; then
  echo "$path also has keys sandbox-host does not manage:$unmanaged" >&2
fi
exit 1
