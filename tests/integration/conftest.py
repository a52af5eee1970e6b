"""Integration tests: self-contained, against this machine's own Docker.

Each test starts what it needs (test hosts from the locally built images, networks and servers
with test-only names) and removes it again; nothing here needs a Molecule scenario. They skip
when Docker or an image they need is missing, and under Molecule (whose verify step runs the
testinfra checks in tests/host against the scenario's hosts instead).
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
