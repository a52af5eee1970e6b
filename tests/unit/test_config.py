"""group_vars validation: bad values stop the run with the file, the key and the reason."""

import textwrap

import pytest

from sandbox_host import config


def write(tmp_path, name, text):
    (tmp_path / name).write_text(textwrap.dedent(text))


def error_for(tmp_path, group_text, group="dev"):
    write(tmp_path, "all.yml", "docker_daemon: {log_max_file: 3}\n")
    write(tmp_path, f"{group}.yml", group_text)
    with pytest.raises(config.ConfigError) as caught:
        config.load([group], tmp_path)
    return str(caught.value)


BAD = [
    ("mtu too large", "docker_daemon: {mtu: 70000}", "docker_daemon.mtu", "less than or equal to 65535"),
    ("mtu too small", "docker_daemon: {mtu: 10}", "docker_daemon.mtu", "greater than or equal to 68"),
    ("dns not an IP", "docker_daemon: {dns: [dns.google]}", "docker_daemon.dns.0", "not a host name"),
    ("malformed CIDR", "sandbox_network: {internal_subnet: 10.0.0.0/33}", "sandbox_network.internal_subnet", "CIDR"),
    ("CIDR host bits", "docker_daemon: {fixed_cidr: 10.0.0.1/24}", "docker_daemon.fixed_cidr", "host bits"),
    (
        "overlapping CIDRs",
        "docker_daemon: {default_address_pools: [{base: 172.30.0.0/16, size: 24}]}",
        "docker_daemon.default_address_pools.0.base",
        "overlaps sandbox_network.internal_subnet",
    ),
    ("unknown key", "docker_daemon: {mtuu: 1500}", "docker_daemon.mtuu", "unknown key"),
    ("unknown section", "dockr_daemon: {mtu: 1500}", "dockr_daemon", "unknown key"),
    ("proxy without scheme", "docker_proxy: {http_proxy: 'proxy:3128'}", "docker_proxy.http_proxy", "scheme"),
    ("bad no_proxy entry", "docker_proxy: {no_proxy: ['a b']}", "docker_proxy.no_proxy.0", "host name"),
    ("wrong type", "host_network: {disable_ipv6: maybe}", "host_network.disable_ipv6", "boolean"),
    ("bad choice", "docker_engine: {source: snap}", "docker_engine.source", "docker_ce"),
    ("bad interface", "firewall: {extra_interfaces: ['docker0; rm -rf /']}", "firewall.extra_interfaces.0", "interface"),
    ("proxy ip outside subnet", "sandbox_network: {proxy_ip: 10.9.9.9}", "sandbox_network.proxy_ip", "not a usable address"),
    ("ipv6 contradiction", "docker_daemon: {ipv6: true}", "docker_daemon.ipv6", "IPv6 off"),
    ("log size unit", "docker_daemon: {log_max_size: 10MB}", "docker_daemon.log_max_size", "pattern"),
    # The gateway leaves directly (nginx cannot tunnel through a proxy): useless behind a mandatory one.
    ("gateway behind an upstream", "egress_proxy: {upstream_proxy: 'http://proxy.corp.example:3128'}",
     "egress_proxy.upstream_proxy", "set credential_gateway.enabled: false"),
]


@pytest.mark.parametrize("case,text,key,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_value_names_file_key_and_reason(tmp_path, case, text, key, reason):
    message = error_for(tmp_path, text)
    assert str(tmp_path / "dev.yml") in message
    assert key in message
    assert reason in message


def test_error_blames_the_file_that_set_the_key(tmp_path):
    write(tmp_path, "all.yml", "docker_daemon: {mtu: 99999}\n")
    write(tmp_path, "dev.yml", "docker_daemon: {log_max_file: 2}\n")
    with pytest.raises(config.ConfigError) as caught:
        config.load(["dev"], tmp_path)
    assert f"{tmp_path / 'all.yml'}: docker_daemon.mtu" in str(caught.value)


def test_group_file_overrides_all(tmp_path):
    write(tmp_path, "all.yml", "docker_daemon: {mtu: 1500, log_max_file: 3}\n")
    write(tmp_path, "dev.yml", "docker_daemon: {mtu: 1450}\n")
    loaded = config.load(["dev"], tmp_path)
    assert loaded.docker_daemon.mtu == 1450
    assert loaded.docker_daemon.log_max_file == 3


def test_not_yaml_is_reported(tmp_path):
    write(tmp_path, "all.yml", "docker_daemon: [unclosed\n")
    with pytest.raises(config.ConfigError, match="all.yml: not valid YAML"):
        config.load([], tmp_path)


def test_validate_all_checks_every_group_file(tmp_path):
    write(tmp_path, "all.yml", "{}\n")
    write(tmp_path, "good.yml", "docker_daemon: {mtu: 1450}\n")
    write(tmp_path, "bad.yml", "docker_daemon: {mtu: 1}\n")
    with pytest.raises(config.ConfigError, match="bad.yml: docker_daemon.mtu"):
        config.validate_all(tmp_path)


def test_validate_all_checks_again_once_a_file_changed(tmp_path):
    # Valid files are validated once per process (the deploy asks once per host); an edit, or a
    # file added, is checked again.
    write(tmp_path, "all.yml", "{}\n")
    write(tmp_path, "good.yml", "docker_daemon: {mtu: 1450}\n")
    config.validate_all(tmp_path)
    config.validate_all(tmp_path)
    write(tmp_path, "good.yml", "docker_daemon: {mtu: 1}\n")
    with pytest.raises(config.ConfigError, match="good.yml: docker_daemon.mtu"):
        config.validate_all(tmp_path)
    write(tmp_path, "good.yml", "docker_daemon: {mtu: 1450}\n")
    write(tmp_path, "new.yml", "docker_daemon: {mtu: 2}\n")
    with pytest.raises(config.ConfigError, match="new.yml: docker_daemon.mtu"):
        config.validate_all(tmp_path)


def test_shipped_group_vars_are_valid():
    config.validate_all()


def test_site_folder_layers_over_the_checkout_group_vars(tmp_path, monkeypatch):
    # The checkout's dev.yml sets docker_engine.source: distro; a site folder adds a key and
    # overrides another, and dev.yml's other settings stay.
    (tmp_path / "dev.yml").write_text("docker_daemon:\n  log_max_file: 7\n")
    monkeypatch.setenv(config.GROUP_VARS_ENV, str(tmp_path))
    assert config.group_vars_dirs() == [config.layers.DEFAULT_GROUP_VARS, tmp_path]
    loaded = config.load(["dev"])
    assert loaded.docker_engine.source == "distro"
    assert loaded.gvisor.source == "distro"
    assert loaded.docker_daemon.log_max_file == 7


def test_checkout_folder_named_again_is_used_once(monkeypatch):
    monkeypatch.setenv(config.GROUP_VARS_ENV, f"{config.layers.DEFAULT_GROUP_VARS}:")
    assert config.group_vars_dirs() == [config.layers.DEFAULT_GROUP_VARS]


def test_missing_layer_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(config.GROUP_VARS_ENV, str(tmp_path / "nope"))
    with pytest.raises(config.ConfigError, match="nope: not a directory"):
        config.group_vars_dirs()


def test_a_refused_proxy_url_is_shown_without_its_credentials(tmp_path):
    (tmp_path / "all.yml").write_text('docker_proxy:\n  http_proxy: "ftp://alice:s3cret@proxy:3128"\n')
    with pytest.raises(config.ConfigError) as caught:
        config.load((), tmp_path)
    assert "docker_proxy.http_proxy" in str(caught.value)
    assert "s3cret" not in str(caught.value) and "alice" not in str(caught.value)
    assert "ftp://***@proxy:3128" in str(caught.value)


def test_upstream_without_the_gateway_is_valid(tmp_path):
    write(tmp_path, "all.yml", """\
        egress_proxy: {upstream_proxy: 'http://u%40corp:pa$$w0rd@proxy.corp.example:3128'}
        credential_gateway: {enabled: false}
        """)
    loaded = config.load((), tmp_path)
    assert loaded.egress_proxy.upstream_proxy == "http://u%40corp:pa$$w0rd@proxy.corp.example:3128"
