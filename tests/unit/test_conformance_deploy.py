"""Which operations the conformance deploy calls: systemd timer, cron file, or removal (faked facts)."""

from __future__ import annotations

import json

import pytest
from pyinfra.context import ctx_host, ctx_state

from fakehost import FakeHost, fake_host, shown
from pyinfra.facts.docker import DockerImage
from pyinfra.facts.files import Directory, File
from pyinfra.facts.server import Sysctl

from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.conformance import deploy as conformance_deploy

UNIT = "/etc/systemd/system/sandbox-host-conformance"


class Recorder:
    def __init__(self, module, calls):
        self.module, self.calls = module, calls

    def __getattr__(self, op):
        def call(name=None, **kwargs):
            src = kwargs.get("src")
            if hasattr(src, "getvalue"):
                kwargs["src"] = src.getvalue()
            self.calls.append((f"{self.module}.{op}", kwargs))
            return (f"{self.module}.{op}", kwargs)

        return call


TIMER = "/etc/systemd/system/sandbox-host-conformance.timer"


def run(monkeypatch, init, facts=None, **conformance):
    calls = []
    monkeypatch.setattr(conformance_deploy, "files", Recorder("files", calls))
    monkeypatch.setattr(conformance_deploy, "systemd", Recorder("systemd", calls))
    monkeypatch.setattr(conformance_deploy, "declared_state", Recorder("conformance", calls).declared_state)
    sections = HostConfig.model_validate({"conformance": conformance})
    with fake_host(facts or {}):
        conformance_deploy.conformance._inner(sections.conformance_sections(), init)
    return calls


def test_systemd_host_gets_program_declared_state_and_a_running_timer(monkeypatch):
    calls = run(monkeypatch, "systemd", enabled=True, interval="30s", boot_delay="10s")
    ops = [(op, kw.get("dest") or kw.get("path") or kw.get("service")) for op, kw in calls]
    assert ops == [
        ("files.put", "/usr/local/sbin/sandbox-host-conformance"),
        ("files.put", "/usr/local/lib/sandbox-host/conformance-probe.sh"),
        ("conformance.declared_state", "/etc/sandbox-host/conformance.json"),
        ("files.put", f"{UNIT}.service"),
        ("files.put", f"{UNIT}.timer"),
        ("systemd.daemon_reload", None),
        ("systemd.service", "sandbox-host-conformance.timer"),
        ("systemd.service", "sandbox-host-conformance.timer"),
    ]
    service, timer = calls[3][1]["src"], calls[4][1]["src"]
    assert "ExecStart=/usr/local/sbin/sandbox-host-conformance --declared /etc/sandbox-host/conformance.json" in service
    assert "Type=oneshot" in service
    assert "OnUnitActiveSec=30s" in timer and "OnBootSec=10s" in timer and "AccuracySec=1s" in timer
    assert calls[6][1] == {"service": "sandbox-host-conformance.timer", "running": True, "enabled": True}
    assert calls[7][1]["restarted"] is True  # gated on the timer file changing


def test_host_without_systemd_gets_a_cron_file(monkeypatch):
    calls = run(monkeypatch, "sysvinit", enabled=True, cron_schedule="*/5 * * * *")
    assert [op for op, _ in calls][-1] == "files.put"
    cron = calls[-1][1]
    assert cron["dest"] == "/etc/cron.d/sandbox-host-conformance"
    assert ("*/5 * * * * root /usr/local/sbin/sandbox-host-conformance --declared /etc/sandbox-host/conformance.json"
            " 2>&1 | logger -t sandbox-host-conformance") in cron["src"]
    assert not any(op.startswith("systemd") for op, _ in calls)


@pytest.mark.parametrize("timer_present", [True, False])
def test_disabled_removes_everything(monkeypatch, timer_present):
    calls = run(monkeypatch, "systemd", facts={(File, TIMER): {"mode": 644} if timer_present else None}, enabled=False)
    stop = [("systemd.service", {"service": "sandbox-host-conformance.timer", "running": False, "enabled": False})]
    removed = [kw["path"] for op, kw in calls if op == "files.file"]
    assert [c for c in calls if c[0].startswith("systemd")] == (stop if timer_present else [])
    assert all(kw["present"] is False for op, kw in calls if op == "files.file")
    assert removed == [f"{UNIT}.timer", f"{UNIT}.service", "/etc/cron.d/sandbox-host-conformance",
                       "/usr/local/sbin/sandbox-host-conformance", "/usr/local/lib/sandbox-host/conformance-probe.sh",
                       "/etc/sandbox-host/conformance.json"]


def test_declared_state_is_computed_when_the_operation_runs(monkeypatch):
    """The uploaded state carries the content tag images.build gives this host's proxy image: it
    depends on the base image's ID, read from the host when the operation runs."""
    from pyinfra.api import Config

    from sandbox_host.roles.images import operations as image_ops

    sections = HostConfig.model_validate({"agent": {"enabled": False}})
    path = "/etc/sandbox-host/conformance.json"
    base_id = "sha256:" + "b" * 64
    facts = {(Sysctl, ("net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6")):
             {"net.ipv6.conf.all.disable_ipv6": 1},
             (DockerImage, "debian:bookworm-slim"): [{"Id": base_id}],
             (File, path): None, (Directory, path): None, (Directory, "/etc/sandbox-host"): {"mode": 755}}
    built, real_hash = [], image_ops.content_hash

    def spy(*args):
        built.append(args[-1])
        return real_hash(*args)

    class State:
        config = Config()

    monkeypatch.setattr(image_ops, "content_hash", spy)
    with ctx_state.use(State()), ctx_host.use(FakeHost(facts)):
        commands = [shown(c) for c in conformance_deploy.declared_state._inner(path=path, sections=sections.conformance_sections(), init="systemd")]
    (upload,) = [c for c in commands if isinstance(c, tuple) and c[2] == path]
    state = json.loads(upload[1])
    assert built == [base_id]  # the tag was computed from the host's base image
    assert state["egress_proxy"]["image"].startswith("sandbox-host-egress-proxy:c-")
    assert state["images"] == [state["egress_proxy"]["image"]]
    assert state["daemon_json"]["managed"]["icc"] is False
