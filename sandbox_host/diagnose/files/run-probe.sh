#!/bin/sh
# Run a probe program in one throwaway container, bounded in time, and remove the container.
#   run-probe.sh IMAGE NETWORK SHELL TIMEOUT PROGRAM [ARG...]
# Starts IMAGE (local only: never pulled) on NETWORK with SHELL -c PROGRAM probe ARG..., prints
# its output (stdout and stderr), then '##docker_rc' and docker run's exit code (124: timed out).
# '##NOIMAGE##' alone when IMAGE is not on the host. Always exits 0 (a diagnose fact).
image=$1 network=$2 shell=$3 timeout=$4 program=$5
shift 5
docker image inspect "$image" >/dev/null 2>&1 || { echo '##NOIMAGE##'; exit 0; }
name=sandbox-host-diagnose-$$
# --sig-proxy=false: timeout's SIGTERM must end the client, not reach the container's shell (PID 1
# there ignores it, and the probe would wait for TCP's own timeout, minutes).
out=$(timeout "$timeout" docker run --rm --sig-proxy=false --pull never --name "$name" --network "$network" \
  --label sandbox-host.diagnose=probe --entrypoint "$shell" "$image" -c "$program" probe "$@" 2>&1)
rc=$?
docker rm -f "$name" >/dev/null 2>&1
echo "$out"
echo '##docker_rc'
echo "$rc"
exit 0
