"""Read-only pyinfra facts for the diagnosis. Every fact exits 0 and prints a marker when its tool
or file is missing, so a host without Docker, systemd, nft or a firewall is reported as "absent"
instead of failing the gather (pyinfra fails a host whose fact command exits non-zero)."""

from pathlib import Path

ABSENT = "##ABSENT##"
# The shell programs the facts run (as `sh -c <file's text> ARGS`, nothing is uploaded).
FILES = Path(__file__).resolve().parents[1] / "files"
