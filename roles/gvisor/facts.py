"""What runsc is on the host and whether it has the root-network-namespace bug."""

import re

from pyinfra.api import FactBase

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
        return (
            "if command -v runsc >/dev/null 2>&1; then echo installed; runsc --version 2>/dev/null | head -n1; "
            "else echo absent; apt-cache policy runsc 2>/dev/null | grep -m1 Candidate; fi; "
            "if unshare -n sh -c 'test -e /proc/sys/net/core/rmem_default' 2>/dev/null; "
            "then echo rmem_visible; else echo rmem_hidden; fi"
        )

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
