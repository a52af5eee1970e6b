"""Run a deploy against the scenario's test hosts and summarise what changed, as JSON.

    python molecule/shared/pyinfra_run.py deploys/sandbox_host.py

pyinfra's exit code says whether operations failed, not whether they changed anything, so
this reads `pyinfra --json` and prints, as its last line, {"changed_operations": [...]}: the
operations that changed some host. converge.yml turns that into Ansible's changed flag, which
is what Molecule's idempotence step counts.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

INVENTORY = Path(__file__).with_name("inventory.py")


def changed_operations(result: dict) -> list[str]:
    return [
        f"{op['name']} on {', '.join(op['success'])}"
        for op in result["results"]["operations"]
        if op["success"]
    ]


def main(deploy: str) -> int:
    pyinfra = Path(sys.executable).with_name("pyinfra")
    run = subprocess.run(
        [str(pyinfra), "-y", "--json", str(INVENTORY), deploy],
        stdout=subprocess.PIPE,
        env=os.environ,
        text=True,
    )
    # pyinfra's human log went to stderr already; stdout is the JSON document.
    try:
        result = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stdout, file=sys.stderr)
        print(f"pyinfra exited {run.returncode} without a JSON result", file=sys.stderr)
        return run.returncode or 1
    summary = {"changed_operations": changed_operations(result), "failed_hosts": result["results"]["failed_hosts"]}
    print(json.dumps(summary))
    return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
