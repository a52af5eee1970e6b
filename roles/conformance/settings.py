"""conformance: a timer on each host that checks the managed state and the egress policy still hold."""

from __future__ import annotations

from pydantic import Field

from sandbox_host.roles.common.types import Section

_ABS_PATH = r"^/[A-Za-z0-9._/-]+$"
# systemd time spans this role accepts: a number and one unit (30s, 15min, 2h).
_TIMESPAN = r"^[1-9][0-9]*(s|min|h)$"
# A DNS name (it ends up on the probe's command line): labels of letters, digits and inner hyphens.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = rf"^{_LABEL}(\.{_LABEL})*$"


class ConformanceSettings(Section):
    enabled: bool = Field(
        default=False,
        description=(
            "Install the self-check and its timer (group_vars/ci_runners.yml turns it on for the "
            "fleet; laptops leave it off). false removes the timer, the cron file and the declared state."
        ),
    )
    interval: str = Field(
        default="15min", pattern=_TIMESPAN,
        description="Time between two runs (systemd OnUnitActiveSec: 30s, 15min, 1h).",
    )
    boot_delay: str = Field(
        default="2min", pattern=_TIMESPAN,
        description="First run this long after boot (OnBootSec), once Docker had time to start.",
    )
    cron_schedule: str = Field(
        default="*/15 * * * *", pattern=r"^[0-9*/,-]+( [0-9*/,-]+){4}$",
        description="Hosts without systemd as PID 1 get /etc/cron.d/sandbox-host-conformance with this schedule.",
    )
    program: str = Field(
        default="/usr/local/sbin/sandbox-host-conformance", pattern=_ABS_PATH,
        description="Where the self-check program is installed (the unit is named after it).",
    )
    declared_path: str = Field(
        default="/etc/sandbox-host/conformance.json", pattern=_ABS_PATH,
        description="The declared state the deploy writes and the self-check compares the host against.",
    )
    result_path: str = Field(
        default="/var/lib/sandbox-host/conformance.json", pattern=_ABS_PATH,
        description="The last run's result (schema: roles/conformance/files/result.schema.json).",
    )
    textfile_dir: str | None = Field(
        default=None, pattern=_ABS_PATH,
        description=(
            "node-exporter's textfile collector folder (e.g. /var/lib/prometheus/node-exporter): "
            "sandbox-host-conformance.prom is written there, one metric per check. null: none."
        ),
    )
    allowed_probe_target: str | None = Field(
        default=None, pattern=_DNS_NAME,
        description=(
            "A name on the allowlist the probe CONNECTs to through the proxy (port 443): the only "
            "outside traffic the check makes. null: no outside traffic; the proxy is proven to "
            "answer by refusing denied_probe_name."
        ),
    )
    denied_probe_name: str = Field(
        default="conformance-probe.invalid", pattern=_DNS_NAME,
        description="A name that must not be on the allowlist; the proxy must refuse it (before any DNS lookup).",
    )
    probe_image: str | None = Field(
        default=None,
        description="Image of the throwaway probe container (needs bash and timeout); null: images.base_image.",
    )
    probe_timeout: int = Field(
        default=5, ge=1, le=60,
        description="Seconds each probe waits for an answer (a blocked connection costs this much).",
    )
