"""Diagnose hosts with the pyinfra CLI: one JSON report per host, nothing on the host changes.

    pyinfra -y inventories/ci_runners.py deploys/diagnose.py
    pyinfra -y @local deploys/diagnose.py --data diagnose_probe_image=sandbox-host-base:bookworm

Same collector as `sandbox-host diagnose gather INVENTORY --out DIR` (the preferred form: it
exits non-zero when a host could not be diagnosed). Reports go to $SANDBOX_HOST_DIAGNOSE_OUT
(default: reports/). Probe knobs come from the host's group_vars, overridden by host data:
diagnose_probe_image, diagnose_resolve_name, diagnose_proxy_target, diagnose_probe_timeout.
Then: sandbox-host diagnose explain reports/<host>.json, or compare two reports.
"""

import os

from pyinfra import host, logger

from sandbox_host.diagnose.gather import gather_host, write_report
from sandbox_host.diagnose.runner import options_for

overrides = {
    key: host.data.get(f"diagnose_{key}")
    for key in ("probe_image", "resolve_name", "proxy_target", "probe_timeout")
}
if overrides["probe_timeout"] is not None:
    overrides["probe_timeout"] = int(overrides["probe_timeout"])

# Facts are read while pyinfra prepares the run; the report is written then, no operation runs.
path = write_report(gather_host(host, options_for(host.groups, overrides)), os.environ.get("SANDBOX_HOST_DIAGNOSE_OUT", "reports"))
logger.info(f"{host.print_prefix}diagnosis written to {path}")
