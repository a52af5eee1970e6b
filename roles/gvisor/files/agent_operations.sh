#!/bin/sh
# What an agent does all day, run inside a container under the runtime being checked (the
# deploy's smoke run and `sandbox-host diagnose`). A runtime that only starts containers is not
# enough: Debian's 2022 runsc lacks statx, so `ls -la` and `stat` fail with "Invalid argument".
# Prints one line per operation: "ok NAME", "fail NAME: last line of its error", "skip NAME: why".
# Always exits 0 once it runs: the verdict is in the lines.
dir=$(mktemp -d 2>/dev/null) || dir=/tmp/agent-operations
if ! mkdir -p "$dir" || ! cd "$dir"; then
  echo "fail setup: cannot use a temporary directory"
  exit 0
fi
echo "agent file" >file.txt

check() {
  name=$1
  shift
  if out=$("$@" 2>&1); then
    echo "ok $name"
  else
    echo "fail $name: $(printf '%s' "$out" | tail -n 1)"
  fi
}

check "ls -la" ls -la "$dir"
check "stat" stat file.txt
if command -v git >/dev/null 2>&1; then
  # shellcheck disable=SC2016 # expanded by the inner sh, from its argument
  check "git status" sh -c 'HOME=$1 git init -q repo && cd repo && HOME=$1 git status --short' _ "$dir"
else
  echo "skip git status: git is not in the image"
fi
if command -v node >/dev/null 2>&1; then
  check "node file read" node -e 'require("fs").readFileSync(process.argv[1], "utf8")' "$dir/file.txt"
else
  echo "skip node file read: node is not in the image"
fi
# A few dozen processes at once, as a build or a test runner starts them.
storm() {
  pids=""
  i=0
  while [ "$i" -lt 40 ]; do
    sh -c 'exit 0' &
    pids="$pids $!"
    i=$((i + 1))
  done
  failed=0
  for pid in $pids; do wait "$pid" || failed=$((failed + 1)); done
  [ "$failed" -eq 0 ] || { echo "$failed of 40 processes failed"; return 1; }
}
check "fork storm (40 processes)" storm
