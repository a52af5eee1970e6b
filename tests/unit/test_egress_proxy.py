"""egress_proxy: allowlist validation (nothing reaches squid.conf but host names), the generated
config, and the container operation with faked facts."""

import pytest
from pydantic import ValidationError
from pyinfra.api import OperationError
from pyinfra.facts.docker import DockerContainer, DockerImage, DockerNetwork

from fakehost import run_operation
from sandbox_host.roles.common.facts import DockerdStartedAt
from sandbox_host.roles.egress_proxy import operations as ops
from sandbox_host.roles.egress_proxy import squid
from sandbox_host.roles.egress_proxy.deploy import run_args
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings

# Validation: each of these would change Squid's config if it reached the template.
INJECTIONS = [
    "example.com\nhttp_access allow all",
    "example.com http_access allow all",
    "example.com # comment",
    "#example.com",
    '"example.com"',
    "example.com;",
    "example.com\tall",
    "example.com\r",
    "all",  # fine as a name? no: see below, single-label names are allowed, 'all' is a plain host
    "../etc/passwd",
    "example.com/path",
    "user@example.com",
    "example.com:443",
    "exa mple.com",
    "-example.com",
    "example-.com",
    "*",
    "*.com",
    ".com",
    "*.*.example.com",
    "ex*ample.com",
    "10.0.0.1",
    "[::1]",
    "::1",
    "2130706433",
    "a" * 64 + ".com",
    "",
    "%0aexample.com",
    "example.com\x00",
    "exämple.com",
]


@pytest.mark.parametrize("entry", [e for e in INJECTIONS if e != "all"], ids=repr)
def test_config_injection_and_bad_names_are_rejected(entry):
    with pytest.raises(ValidationError):
        EgressProxySettings(allowed_domains=[entry])
    with pytest.raises(ValidationError):
        EgressProxySettings(denied_domains=[entry])


def test_a_single_label_name_is_just_a_host_name():
    # "all" is not Squid's all ACL here: it lands as `dstdomain -n all`, a host called "all".
    assert EgressProxySettings(allowed_domains=["all"]).allowed_domains == ["all"]


@pytest.mark.parametrize(
    "entry,squid_form",
    [
        ("api.anthropic.com", "api.anthropic.com"),
        ("API.Anthropic.COM", "api.anthropic.com"),
        ("*.example.com", ".example.com"),
        (".example.com", ".example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("1password.com", "1password.com"),
    ],
)
def test_domain_forms(entry, squid_form):
    assert EgressProxySettings(allowed_domains=[entry]).allowed_domains == [squid_form]


def test_ports_are_validated():
    with pytest.raises(ValidationError):
        EgressProxySettings(allowed_connect_ports=[0])
    with pytest.raises(ValidationError):
        EgressProxySettings(allowed_connect_ports=[])


# The generated squid.conf


def conf(**settings):
    return squid.render(EgressProxySettings(**settings), port=3128, client_subnet="172.30.0.0/24")


def access_rules(text):
    return [line for line in text.splitlines() if line.startswith("http_access")]


def test_default_config_allows_claude_code_endpoints_only():
    text = conf()
    allowed = [line.split()[-1] for line in text.splitlines() if line.startswith("acl allowed_domains")]
    assert allowed == sorted(["api.anthropic.com", "statsig.anthropic.com", "sentry.io", "claude.ai", "console.anthropic.com"])
    assert "acl sandbox_clients src 172.30.0.0/24" in text
    assert access_rules(text) == [
        "http_access deny manager",
        "http_access deny !sandbox_clients",
        "http_access deny CONNECT !connect_ports",
        "http_access deny !CONNECT !http_ports",
        "http_access deny to_ip_literal",
        "http_access deny !allowed_domains",
        "http_access deny to_private",
        "http_access allow allowed_domains",
        "http_access deny all",
    ]
    assert "acl connect_ports port 443" in text
    assert "acl http_ports port 80" in text


def test_denied_is_checked_before_allowed():
    rules = access_rules(conf(allowed_domains=["*.example.com"], denied_domains=["uploads.example.com"]))
    assert rules.index("http_access deny denied_domains") < rules.index("http_access allow allowed_domains")
    assert rules[-1] == "http_access deny all"


def test_private_destinations_are_checked_only_for_allowed_names():
    rules = access_rules(conf())
    # The dst ACL resolves the name: it must come after unlisted names are refused.
    assert rules.index("http_access deny !allowed_domains") < rules.index("http_access deny to_private")
    assert rules.index("http_access deny to_private") < rules.index("http_access allow allowed_domains")
    text = conf()
    assert "acl to_private dst 0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.168.0.0/16" in text
    assert "acl to_private dst ::1 fc00::/7 fe80::/10" in text


def test_private_destinations_can_be_allowed():
    text = conf(deny_private_destinations=False)
    assert "to_private" not in text


def test_empty_allowlist_denies_everything():
    text = conf(allowed_domains=[])
    assert "allowed_domains" not in text
    assert access_rules(text)[-1] == "http_access deny all"
    assert not any(rule.startswith("http_access allow") for rule in access_rules(text))


def test_no_http_ports_refuses_plain_http():
    rules = access_rules(conf(allowed_http_ports=[]))
    assert "http_access deny !CONNECT" in rules


def test_ip_literals_are_denied_before_any_allow():
    text = conf()
    assert "acl to_ip_literal dstdom_regex -n -i ^(0x[0-9a-f]+|[0-9]+)(\\.(0x[0-9a-f]+|[0-9]+)){0,3}$" in text
    assert "acl to_ip_literal dstdom_regex -n -i ^\\[?[0-9a-f]*:[0-9a-f:.]*\\]?$" in text


@pytest.mark.parametrize(
    "listen_ipv6,line", [(True, "http_port 3128"), (False, "http_port 0.0.0.0:3128")], ids=["dual-stack", "ipv4"]
)
def test_listener(listen_ipv6, line):
    ports = [l for l in conf(listen_ipv6=listen_ipv6).splitlines() if l.startswith("http_port")]
    # One socket only: a second [::] listener collides with a dual-stack one (see the template).
    assert ports == [line]


def test_json_access_log_on_stdout_and_no_cache():
    text = conf()
    assert "access_log stdio:/dev/stdout logformat=sandbox_json" in text
    assert 'logformat sandbox_json {"time":' in text and '"decision":"%Ss"' in text
    assert "cache deny all" in text
    assert "pinger_enable off" in text


def test_wildcard_swallows_the_names_it_covers():
    assert squid.squid_domains([".example.com", "api.example.com", "example.com", "other.org", "other.org"]) == [
        ".example.com",
        "other.org",
    ]
    assert squid.squid_domains(["notexample.com", ".example.com"]) == [".example.com", "notexample.com"]


# The container operation


def run(facts, **kwargs):
    return run_operation(ops.container, facts, **kwargs)


IMAGE_ID = "sha256:" + "1" * 64
SPEC = dict(
    container="sandbox-egress-proxy",
    image="sandbox-host-egress-proxy:latest",
    networks=[("sandbox-internal", "172.30.0.2"), ("sandbox-egress", None)],
    run_args=["--restart=unless-stopped", "--cap-drop=ALL"],
)
NETWORK_IDS = {"sandbox-internal": "n1", "sandbox-egress": "n2"}
WANTED = ops.spec_hash(IMAGE_ID, [[*n, NETWORK_IDS[n[0]]] for n in SPEC["networks"]], SPEC["run_args"])


def existing(label, running=True):
    return [{"Config": {"Labels": {ops.SPEC_LABEL: label}}, "State": {"Running": running}}]


def with_image(container=None):
    facts = {(DockerImage, SPEC["image"]): [{"Id": IMAGE_ID}]}
    facts.update({(DockerNetwork, name): [{"Id": id_}] for name, id_ in NETWORK_IDS.items()})
    # No container yet: `docker inspect` finds nothing, the fact is [].
    facts[(DockerContainer, SPEC["container"])] = [] if container is None else container
    return facts


CREATE = [
    "docker container create --name sandbox-egress-proxy --network sandbox-internal --ip 172.30.0.2 "
    f"--restart=unless-stopped --cap-drop=ALL --label {ops.SPEC_LABEL}={WANTED} sandbox-host-egress-proxy:latest",
    "docker network connect sandbox-egress sandbox-egress-proxy",
    "docker container start sandbox-egress-proxy",
]


def test_missing_container_is_created_connected_and_started():
    commands, _ = run(with_image(), **SPEC)
    assert commands == CREATE


def test_running_with_the_same_spec_is_no_change():
    commands, noops = run(with_image(existing(WANTED)), **SPEC)
    assert commands == [] and noops == ["container sandbox-egress-proxy is running as configured"]


@pytest.mark.parametrize("dockerd_started, restarted", [(1796063668, True), (1796063667, False), (None, False)])
def test_running_since_before_dockerd_started_is_restarted(dockerd_started, restarted):
    """Its DNS through dockerd's embedded resolver is stale after a dockerd restart (live-restore)."""
    container = existing(WANTED)
    container[0]["State"]["StartedAt"] = "2026-11-30T18:34:27.123456789Z"  # 1796063667
    commands, _ = run({**with_image(container), (DockerdStartedAt,): dockerd_started}, **SPEC)
    assert commands == (["docker container restart sandbox-egress-proxy"] if restarted else [])


def test_stopped_with_the_same_spec_is_started():
    commands, _ = run(with_image(existing(WANTED, running=False)), **SPEC)
    assert commands == ["docker container start sandbox-egress-proxy"]


@pytest.mark.parametrize("change", ["image", "args", "network", "recreated network"])
def test_new_image_or_settings_recreate(change):
    spec = dict(SPEC)
    facts = with_image(existing(WANTED))
    if change == "image":
        facts[(DockerImage, SPEC["image"])] = [{"Id": "sha256:" + "2" * 64}]
    elif change == "recreated network":
        facts[(DockerNetwork, "sandbox-egress")] = [{"Id": "n3"}]
    elif change == "args":
        spec["run_args"] = SPEC["run_args"] + ["--memory=128m"]
    else:
        spec["networks"] = [("sandbox-internal", "172.30.0.3"), ("sandbox-egress", None)]
    commands, _ = run(facts, **spec)
    assert commands[0] == "docker container rm -f sandbox-egress-proxy"
    assert commands[1].startswith("docker container create --name sandbox-egress-proxy")
    assert commands[-1] == "docker container start sandbox-egress-proxy"


def test_image_not_built_yet_stops_with_a_message():
    commands, _ = run({**with_image(), (DockerImage, SPEC["image"]): []}, **SPEC)
    assert commands[0].startswith("docker image inspect sandbox-host-egress-proxy:latest >/dev/null 2>&1 || { echo")
    assert "build it first" in commands[0]


def test_container_needs_a_network():
    with pytest.raises(OperationError):
        run(with_image(), **{**SPEC, "networks": []})


def test_run_args_confine_the_proxy():
    args = run_args(EgressProxySettings())
    for required in ("--cap-drop=ALL", "--security-opt=no-new-privileges", "--read-only", "--restart=unless-stopped"):
        assert required in args
    assert not any(arg.startswith(("--cap-add", "--privileged", "--user=root", "--network=host")) for arg in args)
