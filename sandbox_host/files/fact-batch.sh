#!/bin/sh
# fact-batch.sh LIMIT NONCE COMMAND...: run fact commands one after another in one round trip
# (sandbox_host/fact_batch.py). Each command's stdout exactly as it printed it (stderr and stdin
# closed, as a fact's stdout is what pyinfra processes), then "\n<exit status> NONCE\n", so the
# reader can cut the stream back into one output per command, trailing newlines included.
# Everything runs under timeout(1) for LIMIT seconds where the host has it: a command that hangs
# (a dockerd that stopped answering) ends the batch, and the deploy asks the rest one by one.
set -u
limit=$1
shift
# The loop is a program of its own, run under timeout as one process; its $1 is NONCE.
# shellcheck disable=SC2016  # expanded by the inner sh, not here
loop='nonce=$1
shift
for cmd in "$@"; do
  out=$( (eval "$cmd") </dev/null 2>/dev/null; printf "\n%s" "$?")
  printf "%s %s\n" "$out" "$nonce"
done'
if command -v timeout >/dev/null 2>&1; then
  exec timeout "$limit" sh -c "$loop" fact-batch "$@"
fi
exec sh -c "$loop" fact-batch "$@"
