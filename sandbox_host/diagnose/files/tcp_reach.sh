#!/bin/bash
# TCP connect to each HOST:PORT argument, bounded: prints "HOST:PORT ok|failed|timed out".
# Used for dockerd's proxy: a drop-in naming a dead proxy makes every pull hang.
# Usage: tcp_reach.sh SECONDS HOST:PORT... Always exits 0.
seconds=$1
shift
for target in "$@"; do
  host=${target%:*}
  port=${target##*:}
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  timeout "$seconds" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
  case $? in
    0) echo "$target ok" ;;
    124) echo "$target timed out" ;;
    *) echo "$target failed" ;;
  esac
done
true
