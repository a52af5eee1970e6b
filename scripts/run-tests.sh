#!/usr/bin/env bash
# The project's whole test suite, on a fresh Debian 12 machine, as root:
#   scripts/run-tests.sh               unit tests, then every Molecule scenario
#   scripts/run-tests.sh default ufw   unit tests, then only the named scenarios
#   scripts/run-tests.sh vm            the QEMU VM scenario (reboot persistence; ~40 min under
#                                      software emulation, so it is not in the default list)
# Prints one summary line per scenario with its duration, and a final "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
scripts/setup-test-machine.sh || exit 1
export PATH="$repo/.venv/bin:$PATH"

passed=0 failed=0 summary=()
record() {  # name, seconds, status
  summary+=("$(printf '%-18s %-6s %5ss' "$1" "$3" "$2")")
  if [[ $3 == ok ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

step() {  # name, command...: run one suite and record it
  local name=$1 start=$SECONDS; shift
  echo "== $name"
  if "$@"; then record "$name" $((SECONDS - start)) ok; else record "$name" $((SECONDS - start)) FAILED; fi
}

step unit pytest -q tests/unit
# The harness proves Molecule's idempotence and verify steps fail when they should.
step harness pytest -q tests/harness
# Self-contained tests against this machine's Docker (their own test hosts, networks, servers).
step integration pytest -q tests/integration

# Product scenarios, in the order that fails fastest on a broken deploy.
scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  scenarios=(default corporate-proxy firewalld ufw gvisor trixie fleet)
fi
mkdir -p .cache/logs
for scenario in "${scenarios[@]}"; do
  start=$SECONDS
  log=.cache/logs/molecule-$scenario.log
  echo "== molecule test -s $scenario (log: $log)"
  if molecule test -s "$scenario" >"$log" 2>&1; then
    record "$scenario" $((SECONDS - start)) ok
    grep -E "passed|failed" "$log" | tail -n 1
  else
    record "$scenario" $((SECONDS - start)) FAILED
    tail -n 60 "$log"
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
