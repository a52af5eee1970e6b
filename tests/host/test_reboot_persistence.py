"""What a container test host cannot prove: the converged host is still converged after a reboot.

Runs in the `vm` Molecule scenario (a QEMU VM with its own kernel and systemd as PID 1):

    molecule test -s vm

The module reboots the host once, then checks that the kernel settings came back from
/etc/sysctl.d (systemd-sysctl, at boot), that dockerd started at boot with the same daemon.json,
the proxy drop-in and the runsc runtime, that the sandbox's INPUT guard is back in the root
namespace's iptables (its boot unit), that the MSS clamping chain is back in mangle (its own
boot unit), that the egress proxy container runs again, and that a
second converge finds nothing to do. It only reboots when SANDBOX_HOST_TEST_REBOOT=1 (set by
molecule/vm/molecule.yml), so it never reboots a container test host or a real machine checked
with --hosts.
"""

import json
import os
import posixpath
import time

import pytest

from sandbox_host.roles.gvisor.deploy import runtime_args
from sandbox_host.roles.gvisor.facts import RunscNetworkBug

from conftest import docker_json
from expected import expected_mtu, dockerd_environment, wanted_environment, wanted_sysctls

pytestmark = pytest.mark.vm

# Software emulation (TCG) boots in about a minute; a loaded CI machine can take a few.
REBOOT_TIMEOUT = int(os.environ.get("SANDBOX_HOST_REBOOT_TIMEOUT", "600"))
BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


def _boot_id(host):
    """The running kernel's boot id, or None while the host does not answer over SSH."""
    try:
        out = host.run(BOOT_ID)
    except RuntimeError:  # testinfra's SSH backend: ssh itself failed (exit 255)
        return None
    return out.stdout.strip() if out.rc == 0 else None


@pytest.fixture(scope="module")
def before_reboot(host, settings):
    """Reboot the host once; return what it had before, for comparison."""
    if os.environ.get("SANDBOX_HOST_TEST_REBOOT") != "1":
        pytest.skip("reboots the host: only in the vm scenario (SANDBOX_HOST_TEST_REBOOT=1)")
    before = {
        "boot_id": _boot_id(host),
        "daemon_json": host.file(settings.docker_daemon.path).content_string,
        "dropin": host.file(settings.docker_proxy.dropin_path).content_string
        if host.file(settings.docker_proxy.dropin_path).exists
        else None,
    }
    assert before["boot_id"], "the host does not answer before the reboot"
    # Reboot a second from now, from a timer, so this SSH command returns cleanly first.
    host.check_output("systemd-run --on-active=1 --timer-property=AccuracySec=100ms systemctl reboot")

    deadline = time.monotonic() + REBOOT_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(3)
        boot_id = _boot_id(host)
        if boot_id and boot_id != before["boot_id"]:
            break
    else:
        pytest.fail(f"the host did not come back with a new boot id within {REBOOT_TIMEOUT}s")
    # Until boot is done, units that start late (dockerd) may not be up yet.
    state = host.run("timeout 300 systemctl is-system-running --wait").stdout.strip()
    assert state in ("running", "degraded"), state
    return before


def test_failed_units_after_boot(host, before_reboot):
    failed = host.check_output("systemctl list-units --failed --plain --no-legend")
    assert failed == "", failed


def test_sysctls_restored_at_boot(host, settings, before_reboot):
    wanted = wanted_sysctls(host, settings)
    assert {key: str(host.sysctl(key)) for key in wanted} == {key: str(value) for key, value in wanted.items()}
    # No deploy ran since the reboot: systemd-sysctl applied them, and it succeeded.
    result = host.check_output("systemctl show systemd-sysctl --property Result --value")
    assert result == "success"


def test_no_global_ipv6_address_after_boot(host, settings, before_reboot):
    if not settings.host_network.disable_ipv6:
        pytest.skip("host_network.disable_ipv6 is false: IPv6 addresses are the network's business")
    assert host.run("ip -6 addr show scope global").stdout.strip() == ""


def test_daemon_json_unchanged(host, settings, before_reboot):
    assert host.file(settings.docker_daemon.path).content_string == before_reboot["daemon_json"]


def test_dockerd_started_at_boot_with_the_config(host, settings, before_reboot):
    assert host.service("docker").is_enabled and host.service("docker").is_running
    config = json.loads(before_reboot["daemon_json"])
    info = docker_json(host, "info", "--format", "'{{json .}}'")
    assert info["LoggingDriver"] == config["log-driver"]
    assert info["LiveRestoreEnabled"] is config["live-restore"]
    for name, entry in (config.get("runtimes") or {}).items():
        running = info["Runtimes"][name]
        assert running["path"] == entry["path"]
        assert running.get("runtimeArgs", []) == entry.get("runtimeArgs", [])
    bridge = docker_json(host, "network", "inspect", "bridge")[0]
    assert bridge["Options"]["com.docker.network.driver.mtu"] == str(expected_mtu(host, settings))


def test_runsc_args_are_what_this_kernel_needs(host, settings, before_reboot):
    """The registered runtimeArgs follow the RunscNetworkBug decision for this kernel and runsc."""
    if not settings.gvisor.enabled:
        pytest.skip("gvisor.enabled is false in this scenario")
    fact = RunscNetworkBug()
    bug = fact.process(host.check_output(fact.command()).splitlines())
    expected, _notice = runtime_args(settings.gvisor, bug)
    registered = json.loads(before_reboot["daemon_json"])["runtimes"][settings.gvisor.runtime_name]
    assert registered.get("runtimeArgs", []) == expected, bug


def test_runsc_container_runs_after_boot(host, settings, before_reboot):
    if not settings.gvisor.enabled:
        pytest.skip("gvisor.enabled is false in this scenario")
    image = settings.gvisor.smoke_image or settings.images.base_image
    out = host.run(f"docker run --rm --runtime={settings.gvisor.runtime_name} {image} sh -c 'uname -r; cat /proc/net/dev'")
    assert out.rc == 0, out.stderr
    assert out.stdout.splitlines()[0] != host.check_output("uname -r")


def test_proxy_dropin_survives_and_is_live(host, settings, before_reboot):
    wanted = wanted_environment(settings.docker_proxy)
    dropin = host.file(settings.docker_proxy.dropin_path)
    # Present (and unchanged) exactly when a proxy is set; dockerd has exactly its values.
    assert (dropin.content_string if dropin.exists else None) == before_reboot["dropin"]
    assert dropin.exists is bool(wanted)
    assert dockerd_environment(host) == wanted


def test_input_guard_restored_at_boot(host, settings, before_reboot):
    """The sandbox's INPUT guard is back in the root namespace's iptables, from the boot unit."""
    sandbox = settings.sandbox_network
    if not (sandbox.enabled and sandbox.guard_host_input):
        pytest.skip("sandbox_network.guard_host_input is off in this scenario")
    unit = posixpath.basename(sandbox.guard_script) + ".service"
    assert host.check_output(f"systemctl show {unit} --property Result --value") == "success"
    for tool in ("iptables", "ip6tables"):
        rules = host.check_output(f"{tool} -w -S").splitlines()
        assert f"-A INPUT -i {sandbox.internal_bridge} -j {sandbox.guard_chain}" in rules, (tool, rules)
        assert f"-A {sandbox.guard_chain} -j DROP" in rules, (tool, rules)
    for network in (sandbox.internal_network, sandbox.egress_network):
        assert host.run(f"docker network inspect {network}").rc == 0, network


def test_mss_clamping_restored_at_boot(host, settings, before_reboot):
    """The MSS clamping chain is back in mangle FORWARD, from its boot unit."""
    net = settings.host_network
    if net.mss_clamping == "off":
        pytest.skip("host_network.mss_clamping is off in this scenario")
    unit = posixpath.basename(net.mss_script) + ".service"
    assert host.check_output(f"systemctl show {unit} --property Result --value") == "success"
    rules = host.check_output("iptables -w -t mangle -S").splitlines()
    assert f"-A FORWARD -j {net.mss_chain}" in rules, rules
    assert any(r.startswith(f"-A {net.mss_chain} -i docker0 ") for r in rules), rules


def test_egress_proxy_back_after_boot(host, settings, before_reboot):
    """dockerd restarted the egress proxy container at boot (--restart=unless-stopped)."""
    if not settings.egress_proxy.enabled:
        pytest.skip("egress_proxy.enabled is false in this scenario")
    name = settings.egress_proxy.container_name
    state = docker_json(host, "inspect", "--format", "'{{json .State}}'", name)
    assert state["Running"] is True, state


def test_second_converge_after_reboot_changes_nothing(before_reboot, converge):
    code, changed, err = converge()
    assert (code, changed) == (0, []), err
