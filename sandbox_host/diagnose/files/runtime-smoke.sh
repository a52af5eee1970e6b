#!/bin/sh
# Start one throwaway container with a runtime: does it run at all?
#   runtime-smoke.sh RUNTIME IMAGE TIMEOUT
# Prints '##RC=<docker run's exit code>' (124: timed out) and the last lines of its output, or
# '##NOIMAGE##' when IMAGE is not on the host (never pulled). Always exits 0 (a diagnose fact).
runtime=$1 image=$2 timeout=$3
docker image inspect "$image" >/dev/null 2>&1 || { echo '##NOIMAGE##'; exit 0; }
out=$(timeout "$timeout" docker run --rm --pull never --runtime="$runtime" "$image" true 2>&1)
echo "##RC=$?"
echo "$out" | tail -n 5
exit 0
