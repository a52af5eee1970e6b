#!/bin/sh
# What dockerd says about itself, for `sandbox-host diagnose gather` (read-only):
#   ##cmdline      the running dockerd's command line (flags such as --iptables=false)
#   ##validate     `dockerd --validate` of its config file, where this Docker has it (>= 23)
#   ##validate_rc  its exit code, or "unavailable"
#   ##log          when dockerd does not answer: its last log lines (journal, else /var/log/docker.log)
#   ##log_source   where those lines came from
# Usage: dockerd_state.sh CONFIG_FILE LINES ANSWERING(yes|no). Always exits 0.
config=${1:-/etc/docker/daemon.json}
lines=${2:-25}
answering=${3:-no}

echo '##cmdline'
pid=$(pidof dockerd 2>/dev/null | cut -d' ' -f1)
if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
  tr '\0' ' ' <"/proc/$pid/cmdline"
  echo
fi

echo '##validate'
if command -v dockerd >/dev/null 2>&1 && dockerd --help 2>&1 | grep -q -- --validate; then
  out=$(dockerd --validate --config-file "$config" 2>&1)
  rc=$?
  printf '%s\n' "$out" | tail -n 5
  printf '##validate_rc\n%s\n' "$rc"
else
  printf '##validate_rc\nunavailable\n'
fi

if [ "$answering" = no ]; then
  echo '##log'
  if [ -d /run/systemd/system ] && command -v journalctl >/dev/null 2>&1; then
    journalctl -u docker.service -n "$lines" --no-pager -o cat 2>&1
    source=journal
  elif [ -r /var/log/docker.log ]; then
    tail -n "$lines" /var/log/docker.log
    source=/var/log/docker.log
  else
    source=none
  fi
  printf '##log_source\n%s\n' "$source"
fi
true
