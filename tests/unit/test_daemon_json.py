"""daemon.json merge rules: managed keys overwrite, the host's other keys survive, text is stable."""

import json

import pytest

from sandbox_host.roles.docker_daemon import daemon_json
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings


def managed(**settings):
    return daemon_json.managed_options(DockerDaemonSettings(**settings))


def test_unset_settings_are_not_managed():
    options = managed()
    for key in ("dns", "mtu", "fixed-cidr", "default-address-pools", "runtimes", "default-runtime"):
        assert key not in options


def test_managed_values():
    options = managed(dns=["1.1.1.1"], mtu=1450, fixed_cidr="10.9.0.0/24",
                      default_address_pools=[{"base": "10.10.0.0/16", "size": 24}])
    assert options["dns"] == ["1.1.1.1"] and options["mtu"] == 1450
    assert options["ipv6"] is False and options["icc"] is False
    assert options["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert options["default-address-pools"] == [{"base": "10.10.0.0/16", "size": 24}]


def test_syslog_driver_gets_no_rotation_opts():
    assert "log-opts" not in managed(log_driver="syslog")


def test_merge_keeps_unmanaged_and_overwrites_managed():
    existing = {"debug": True, "mtu": 9000, "log-opts": {"labels": "team", "max-size": "1g"},
                "runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}
    new = {"mtu": 1450, "log-opts": {"max-size": "10m"}, "runtimes": {"runsc": {"path": "/usr/bin/runsc"}}}
    merged = daemon_json.merge(existing, new)
    assert merged["debug"] is True and merged["mtu"] == 1450
    assert merged["log-opts"] == {"labels": "team", "max-size": "10m"}
    assert set(merged["runtimes"]) == {"nvidia", "runsc"}


def test_released_value_removed_only_if_still_ours():
    assert "default-runtime" not in daemon_json.merge({"default-runtime": "runsc"}, {}, {"default-runtime": "runsc"})
    kept = daemon_json.merge({"default-runtime": "nvidia"}, {}, {"default-runtime": "runsc"})
    assert kept["default-runtime"] == "nvidia"


def test_render_is_byte_stable():
    a = daemon_json.render({"b": 1, "a": {"y": 2, "x": 1}})
    b = daemon_json.render(json.loads(a))
    assert a == b and a.endswith("}\n") and a.index('"a"') < a.index('"b"')


@pytest.mark.parametrize("text", ["{", "[1, 2]", "nul"])
def test_parse_rejects_what_is_not_a_json_object(text):
    with pytest.raises(ValueError, match="/etc/docker/daemon.json on the host"):
        daemon_json.parse(text, "/etc/docker/daemon.json")


def test_parse_empty_is_no_file():
    assert daemon_json.parse("  \n", "p") is None and daemon_json.parse(None, "p") is None


@pytest.mark.parametrize(
    "options,problem",
    [
        ({"mtu": "1500"}, "mtu must be an integer"),
        ({"icc": "no"}, "icc must be true or false"),
        ({"dns": ["dns.google"]}, "is not an IP address"),
        ({"runtimes": {"runsc": {}}}, "runtimes.runsc needs a path"),
        ({"runtimes": {"runsc": {"path": "/x", "runtimeArgs": [1]}}}, "runtimeArgs must be strings"),
        ({"default-runtime": "kata"}, "is not a registered runtime"),
        ({"log-opts": {"max-file": 3}}, "log-opts.max-file must be a string"),
    ],
)
def test_check_catches_what_stops_dockerd(options, problem):
    assert any(problem in p for p in daemon_json.check(options))


def test_check_accepts_a_managed_config():
    assert daemon_json.check(managed(mtu=1450, dns=["9.9.9.9"])) == []
