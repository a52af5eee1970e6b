"""Exit codes of every `sandbox-host` subcommand (documented in the README, one meaning each)."""

OK = 0  # done; nothing found (no finding, no drift)
FAILED = 1  # a host failed or could not be reached
USAGE = 2  # bad arguments, invalid configuration or an unreadable input file; no host touched
FOUND = 3  # the command worked and found something: diagnose findings, differences, drift
