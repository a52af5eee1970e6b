"""The self-check program (roles/conformance/files/conformance_check.py) against a host faked from
the declared state: the files come from the roles' own render functions, so a check passes exactly
when the host looks like the deploy left it, and each drift fails exactly its check."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest

from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.conformance import declared as declared_mod
from sandbox_host.roles.docker_daemon import daemon_json
from sandbox_host.roles.docker_proxy import deploy as docker_proxy
from sandbox_host.roles.egress_proxy import squid
from sandbox_host.roles.host_network import deploy as host_network

FILES = Path(__file__).resolve().parents[2] / "roles/conformance/files"
spec = importlib.util.spec_from_file_location("conformance_check", FILES / "conformance_check.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)
SCHEMA = json.loads((FILES / "result.schema.json").read_text())

PROXY_TAG = "sandbox-host-egress-proxy:c-0123456789abcdef"
AGENT_TAG = "sandbox-host-agent:c-fedcba9876543210"
PROXY_ID, AGENT_ID = "sha256:" + "1" * 64, "sha256:" + "2" * 64
# No allowed_probe_target configured (the default): that probe skips.
PROBES_OK = "\n".join(f"{p}\t{'skip' if p == 'probe_proxy_allows_target' else 'pass'}\tok" for p in check.PROBES) + "\n"


def settings(**sections):
    return HostConfig.model_validate({"gvisor": {"enabled": True, "default_runtime": True}, **sections})


class FakeSystem:
    """A host as the deploy leaves it, built with the roles' render functions."""

    def __init__(self, config: HostConfig):
        self.config = config
        sysctls = host_network.wanted_sysctls(config.host_network)
        self.declared = declared_mod.build(config, init="systemd", sysctls=sysctls,
                                           image_tags={"egress_proxy": PROXY_TAG, "agent": AGENT_TAG})
        gv = config.gvisor
        merged = daemon_json.merge({"debug": True}, {
            **daemon_json.managed_options(config.docker_daemon),
            "runtimes": {gv.runtime_name: {"path": gv.runsc_path, "runtimeArgs": ["--network=host"]}},
            "default-runtime": gv.runtime_name,
        })
        net = config.sandbox_network
        self.files = {
            "/etc/sandbox-host/conformance.json": declared_mod.render(self.declared),
            config.docker_daemon.path: daemon_json.render(merged),
            config.host_network.sysctl_file: host_network.render(sysctls),
            **{"/proc/sys/" + k.replace(".", "/"): f"{v}\n" for k, v in sysctls.items()},
        }
        env = docker_proxy.environment(config.docker_proxy)
        if env:
            self.files[config.docker_proxy.dropin_path] = docker_proxy.render_dropin(env)
        chain, bridge = net.guard_chain, net.internal_bridge
        self.iptables = {
            "INPUT": f"-P INPUT ACCEPT\n-A INPUT -i {bridge} -j {chain}\n",
            chain: f"-N {chain}\n-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN\n-A {chain} -j DROP\n",
        }
        self.container = {
            "State": {"Running": True, "Status": "running"}, "Image": PROXY_ID,
            "NetworkSettings": {"Networks": {net.internal_network: {"IPAddress": net.proxy_ip},
                                             net.egress_network: {"IPAddress": "172.30.1.2"}}},
        }
        self.images = {PROXY_TAG: PROXY_ID, "sandbox-host-egress-proxy:latest": PROXY_ID,
                       AGENT_TAG: AGENT_ID, "sandbox-host-agent:latest": AGENT_ID}
        self.squid_conf = squid.render(config.egress_proxy, net.proxy_port, net.internal_subnet)
        self.runtimes = {"runc": {}, gv.runtime_name: {}}
        self.default_runtime = gv.runtime_name
        self.probe_output = PROBES_OK
        self.probe_argv = None

    def read(self, path):
        return self.files.get(path)

    def exists(self, command):
        return False  # no ip6tables on this fake host

    def run(self, argv, timeout=30):
        if argv[0] == "iptables":
            rules = self.iptables.get(argv[-1])
            return (0, rules, "") if rules is not None else (1, "", "No chain/target/match by that name.")
        cmd = argv[1:]
        if cmd[:2] == ["info", "--format"]:
            return 0, f"{json.dumps(self.runtimes)} {self.default_runtime}\n", ""
        if cmd[:2] == ["image", "inspect"]:
            found = self.images.get(argv[-1])
            return (0, found + "\n", "") if found else (1, "", f"Error: No such image: {argv[-1]}")
        if cmd[:2] == ["container", "inspect"]:
            if self.container is None:
                return 1, "", f"Error: No such container: {argv[-1]}"
            if argv[-2] == "{{json .NetworkSettings.Networks}}":
                return 0, json.dumps(self.container["NetworkSettings"]["Networks"]), ""
            return 0, json.dumps(self.container), ""
        if cmd[0] == "exec":
            return 0, self.squid_conf, ""
        if cmd[0] == "run":
            self.probe_argv = argv
            return 0, self.probe_output, ""
        raise AssertionError(f"unexpected command {argv}")


def failed_ids(fake):
    result = check.run(fake, "/etc/sandbox-host/conformance.json", "#!/bin/bash\n", host="h1")
    jsonschema.validate(result, SCHEMA)
    return result["failed"], result


def evidence(result, check_id):
    return next(c["evidence"] for c in result["checks"] if c["id"] == check_id)


def test_host_as_deployed_passes_and_result_matches_schema():
    failed, result = failed_ids(FakeSystem(settings()))
    assert failed == []
    assert result["status"] == "pass"
    assert [c["id"] for c in result["checks"]] == [*check.HOST_CHECKS, *check.PROBES]
    assert result["policy_sha256"] == declared_mod.policy_sha256(settings().egress_proxy)


def test_probe_container_is_a_locked_down_throwaway_on_the_internal_network():
    fake = FakeSystem(settings())
    failed_ids(fake)
    argv = fake.probe_argv
    assert argv[:3] == ["docker", "run", "--rm"]
    assert argv[argv.index("--network") + 1] == "sandbox-internal"
    assert argv[argv.index("--runtime") + 1] == "runsc"
    assert {"--cap-drop=ALL", "--read-only", "--security-opt=no-new-privileges"} <= set(argv)
    # proxy, port, denied name, no allowed target, the proxy's egress-side IP, gateway, our listener
    assert argv[-9:-2] == ["172.30.0.2", "3128", "conformance-probe.invalid", "-", "172.30.1.2", "3128", "172.30.0.1"]


@pytest.mark.parametrize("breakage, expected", [
    (lambda f: f.files.update({f.config.docker_daemon.path: f.files[f.config.docker_daemon.path].replace('"icc": false', '"icc": true')}),
     ["daemon_json"]),
    (lambda f: f.files.update({"/proc/sys/net/ipv4/ip_forward": "0\n"}), ["sysctl_live"]),
    (lambda f: f.files.update({f.config.host_network.sysctl_file: "# emptied\n"}), ["sysctl_file"]),
    (lambda f: f.files.update({f.config.docker_proxy.dropin_path: "[Service]\n"}), ["docker_proxy_dropin"]),
    (lambda f: f.iptables.update({"INPUT": "-P INPUT ACCEPT\n"}), ["input_guard"]),
    (lambda f: setattr(f, "default_runtime", "runc"), ["runtime_registered"]),
    (lambda f: f.container["State"].update(Running=False, Status="exited"), ["egress_proxy_container"]),
    (lambda f: setattr(f, "squid_conf", f.squid_conf + "http_access allow all\n"), ["egress_proxy_config"]),
    (lambda f: f.images.update({"sandbox-host-agent:latest": "sha256:" + "3" * 64}), ["image_tags"]),
    (lambda f: setattr(f, "probe_output", PROBES_OK.replace("probe_host_services_unreachable\tpass", "probe_host_services_unreachable\tfail")),
     ["probe_host_services_unreachable"]),
])
def test_each_drift_fails_exactly_its_check(breakage, expected):
    fake = FakeSystem(settings())
    breakage(fake)
    failed, result = failed_ids(fake)
    assert failed == expected
    assert result["status"] == "fail"


def test_daemon_json_evidence_names_key_and_both_values():
    fake = FakeSystem(settings())
    path = fake.config.docker_daemon.path
    fake.files[path] = fake.files[path].replace('"live-restore": true', '"live-restore": false')
    _, result = failed_ids(fake)
    assert evidence(result, "daemon_json") == "live-restore: file has false, declared true"


def test_unmanaged_keys_and_extra_log_opts_are_not_drift():
    fake = FakeSystem(settings())
    path = fake.config.docker_daemon.path
    conf = json.loads(fake.files[path])
    conf["log-opts"]["labels"] = "team"
    conf["experimental"] = False
    fake.files[path] = json.dumps(conf)
    assert failed_ids(fake)[0] == []


def test_probe_that_does_not_report_fails_with_the_container_error():
    fake = FakeSystem(settings())
    fake.probe_output = ""
    failed, result = failed_ids(fake)
    assert failed == list(check.PROBES)
    assert "did not report" in evidence(result, "probe_ipv6_off")


def test_missing_or_foreign_declared_state_fails_one_check():
    fake = FakeSystem(settings())
    del fake.files["/etc/sandbox-host/conformance.json"]
    failed, result = failed_ids(fake)
    assert failed == ["declared_state"] and "run the deploy" in evidence(result, "declared_state")
    fake.files["/etc/sandbox-host/conformance.json"] = json.dumps({**fake.declared, "version": 99})
    failed, result = failed_ids(fake)
    assert failed == ["declared_state"] and "version 99" in evidence(result, "declared_state")


def test_without_sandbox_network_probes_skip_and_no_proxy_is_checked():
    fake = FakeSystem(settings(sandbox_network={"enabled": False}, agent={"enabled": False}))
    failed, result = failed_ids(fake)
    assert failed == []
    skipped = {c["id"] for c in result["checks"] if c["status"] == "skip"}
    assert skipped == {"input_guard", "egress_proxy_container", "egress_proxy_config", *check.PROBES}
    assert fake.probe_argv is None


def test_parse_probe_output_ignores_noise():
    out = "bash: warning\nprobe_ipv6_off\tpass\tno global\nprobe_nonsense\tpass\tx\nprobe_direct_tcp_blocked\tmaybe\tx\n"
    assert check.parse_probe_output(out) == {"probe_ipv6_off": ("pass", "no global")}


def test_summary_line_and_textfile():
    fake = FakeSystem(settings())
    fake.iptables["INPUT"] = ""
    _, result = failed_ids(fake)
    line = check.summary_line(result, "/var/lib/sandbox-host/conformance.json")
    assert line.startswith("sandbox-host conformance FAIL: 1 of 14 checks failed: input_guard (")
    prom = check.textfile(result)
    assert 'sandbox_host_conformance_check{check="input_guard"} 0' in prom
    assert 'sandbox_host_conformance_check{check="daemon_json"} 1' in prom
    assert 'check="probe_proxy_allows_target"' not in prom  # skipped: no metric
    assert "sandbox_host_conformance_ok 0" in prom


def test_main_writes_result_and_exits_non_zero_on_failure(tmp_path, monkeypatch):
    fake = FakeSystem(settings(conformance={"result_path": str(tmp_path / "r.json"),
                                            "textfile_dir": str(tmp_path / "prom")}))
    fake.files["/etc/sandbox-host/conformance.json"] = declared_mod.render(fake.declared)
    fake.files["/usr/local/lib/sandbox-host/conformance-probe.sh"] = "#!/bin/bash\n"
    monkeypatch.setattr(check, "System", lambda: fake)
    assert check.main([]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "pass"
    fake.container = None
    assert check.main([]) == 1
    written = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(written, SCHEMA)
    assert written["failed"] == ["egress_proxy_container"]
    assert (tmp_path / "prom/sandbox-host-conformance.prom").exists()
