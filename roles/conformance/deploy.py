"""conformance: install the self-check, its declared state and its timer (or cron file); or remove them."""

from __future__ import annotations

import posixpath
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.facts.files import File
from pyinfra.facts.server import Sysctl
from pyinfra.operations import files, systemd
from pyinfra.operations.util import any_changed

from sandbox_host.roles.agent import context as agent_context
from sandbox_host.roles.agent.deploy import agent_ids
from sandbox_host.roles.common import templating
from sandbox_host.roles.conformance import declared
from sandbox_host.roles.conformance.sections import ConformanceSections
from sandbox_host.roles.conformance.settings import ConformanceSettings
from sandbox_host.roles.host_network.deploy import IPV6_KEYS, wanted_sysctls

FILES = Path(__file__).parent / "files"
TEMPLATES = Path(__file__).parent / "templates"
PROBE_SCRIPT = "/usr/local/lib/sandbox-host/conformance-probe.sh"  # the program's default (files/)
CRON_FILE = "/etc/cron.d/sandbox-host-conformance"


def unit_name(settings: ConformanceSettings) -> str:
    return posixpath.basename(settings.program)


def host_sysctls(sections) -> dict:
    """host_network's values as its deploy writes them on this host (no IPv6 keys without IPv6)."""
    values = wanted_sysctls(sections.host_network)
    if not host.get_fact(Sysctl, keys=list(IPV6_KEYS)):
        values = {k: v for k, v in values.items() if k not in IPV6_KEYS}
    return values


def image_tags(sections) -> dict[str, str]:
    """The content tags the images role gives this host's images (reads the base image's ID)."""
    tags = {}
    if sections.sandbox_network.enabled and sections.egress_proxy.enabled:
        tags["egress_proxy"] = declared.egress_proxy_tag(sections)
    if sections.agent.enabled:
        uid, gid = agent_ids(sections.agent)
        tags["agent"] = declared.expected_tag(
            sections.images, sections.agent.image_name,
            agent_context.dockerfile(sections.agent, sections.images, uid, gid), agent_context.context_files(),
        )
    return tags


@operation()
def declared_state(path: str, sections: ConformanceSections, init: str, mtu: int | None = None):
    """Write the declared state to ``path``; computed when the operation runs (after the images
    are built: their tags depend on the base image's ID on this host). ``mtu``: the MTU the deploy
    gave docker0 (docker_daemon.mtu, or the path MTU it found for ``auto``)."""
    state = declared.build(sections, init=init, sysctls=host_sysctls(sections), image_tags=image_tags(sections),
                           mtu=mtu)
    yield from files.put._inner(src=StringIO(declared.render(state)), dest=path, user="root", group="root", mode="644")


@deploy("Conformance self-check")
def conformance(sections: ConformanceSections, init: str, mtu: int | None = None):
    """Install (``conformance.enabled``) or remove the self-check.

    ``sections``: the settings the declared state is computed from. ``init``: the InitSystem
    fact; systemd gets a timer, other hosts a cron file. ``mtu``: docker0's MTU as deployed.
    Call it last: it records the state the steps before it produced.
    """
    settings = sections.conformance
    unit = unit_name(settings)
    unit_dir = "/etc/systemd/system"
    if not settings.enabled:
        if init == "systemd" and host.get_fact(File, path=f"{unit_dir}/{unit}.timer"):
            systemd.service(name=f"Stop {unit}.timer", service=f"{unit}.timer", running=False, enabled=False)
        for path in (f"{unit_dir}/{unit}.timer", f"{unit_dir}/{unit}.service", CRON_FILE,
                     settings.program, PROBE_SCRIPT, settings.declared_path):
            files.file(name=f"Remove {path}", path=path, present=False)
        return []

    program = files.put(name=f"Self-check program {settings.program}", src=str(FILES / "conformance_check.py"),
                        dest=settings.program, user="root", group="root", mode="755")
    probe = files.put(name=f"Probe script {PROBE_SCRIPT}", src=str(FILES / "conformance-probe.sh"),
                      dest=PROBE_SCRIPT, user="root", group="root", mode="644")
    state = declared_state(name=f"Declared state {settings.declared_path}", path=settings.declared_path,
                           sections=sections, init=init, mtu=mtu)
    metas = [program, probe, state]
    variables = dict(unit=unit, program=settings.program, declared_path=settings.declared_path,
                     interval=settings.interval, boot_delay=settings.boot_delay,
                     schedule=settings.cron_schedule, result_path=settings.result_path)
    if init != "systemd":
        metas.append(files.put(name=f"Cron schedule {CRON_FILE}", dest=CRON_FILE, user="root", group="root",
                               mode="644", src=StringIO(templating.render(TEMPLATES, "conformance.cron.j2", **variables))))
        return metas
    service = files.put(name=f"Unit {unit}.service", dest=f"{unit_dir}/{unit}.service", user="root", group="root",
                        mode="644", src=StringIO(templating.render(TEMPLATES, "conformance.service.j2", **variables)))
    timer = files.put(name=f"Unit {unit}.timer", dest=f"{unit_dir}/{unit}.timer", user="root", group="root",
                      mode="644", src=StringIO(templating.render(TEMPLATES, "conformance.timer.j2", **variables)))
    reload = systemd.daemon_reload(name="Reload systemd units", _if=any_changed(service, timer))
    running = systemd.service(name=f"Run {unit}.timer", service=f"{unit}.timer", running=True, enabled=True)
    # A changed interval takes effect now, not after the next boot.
    restarted = systemd.service(name=f"Restart {unit}.timer (changed)", service=f"{unit}.timer",
                                running=True, restarted=True, _if=any_changed(timer))
    return metas + [service, timer, reload, running, restarted]
