"""What runsc is on the host and whether it has the root-network-namespace bug."""

import re
import shlex
from pathlib import Path

from pyinfra.api import FactBase

from sandbox_host.roles.common import scripts
from sandbox_host.roles.gvisor import runtime_check

FILES = Path(__file__).parent / "files"

# gVisor issue 10704: runsc decided "am I in the root network namespace?" by whether
# /proc/sys/net/core/rmem_default exists; kernels since ~6.7 show it in every namespace, so
# runsc builds before the fix refuse to start networked containers ("cannot run with network
# enabled in root network namespace"). Reported 2024-07-30; releases from August 2024 have the fix.
FIXED_RELEASE = 20240801


class RunscNetworkBug(FactBase):
    """{"installed": bool, "release": int|None, "rmem_visible_in_netns": bool, "affected": bool}.

    ``release`` is the YYYYMMDD of the installed runsc, or of the package apt would install when
    runsc is not there yet (so the first run already registers the right runtimeArgs).
    """

    def command(self):
        return scripts.command(FILES / "runsc-release.sh")

    def process(self, output):
        text = "\n".join(output)
        match = re.search(r"(20\d{6})", text)
        release = int(match.group(1)) if match else None
        visible = "rmem_visible" in output
        return {
            "installed": bool(output) and output[0] == "installed",
            "release": release,
            "rmem_visible_in_netns": visible,
            "affected": visible and release is not None and release < FIXED_RELEASE,
        }


class RuntimeOperations(FactBase):
    """Run files/agent_operations.sh in a throwaway container under ``runtime`` (never pulls):
    a runtime_check.RuntimeCheck as a dict. Used by the deploy (when it runs, after dockerd's
    restart) and by `sandbox-host diagnose`."""

    @staticmethod
    def default():
        return None

    def command(self, runtime, image, timeout=90):
        return (
            f"out=$(timeout {int(timeout)} docker run --rm --pull never --runtime={shlex.quote(runtime)} "
            f"--entrypoint sh {shlex.quote(image)} -c {shlex.quote(runtime_check.OPERATIONS_SCRIPT)} 2>&1); "
            "rc=$?; printf '%s\\n' \"$out\"; echo \"##RC=$rc\"; true"
        )

    def process(self, output):
        rc = next((int(line[5:]) for line in output if line.startswith("##RC=")), None)
        lines = [line for line in output if not line.startswith("##RC=")]
        # The fact has no arguments at process time: the caller fills runtime and image in.
        return runtime_check.parse("", "", lines, rc).model_dump(by_alias=True)
