#!/bin/sh
# docker.service drop-ins the deploy did not write (no "$1" header line), and the proxy variable
# names each sets: "##PATH" then one name per line. Names only: values can carry credentials.
#   foreign-dropins.sh OWNED_MARK DIR...
mark=$1
shift
for dir in "$@"; do
  for f in "$dir"/*.conf; do
    [ -r "$f" ] || continue
    grep -q "$mark" "$f" && continue
    echo "##$f"
    grep -i -o -E '(http|https|no|all)_proxy' "$f" || true
  done
done
exit 0
