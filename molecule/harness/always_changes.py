"""A deploy that is deliberately not idempotent: its one operation reports a change every run."""

from pyinfra.operations import server

server.shell(name="Always changes", commands=["date +%s%N > /tmp/harness-always-changes"])
