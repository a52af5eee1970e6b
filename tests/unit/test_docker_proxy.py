"""dockerd's proxy environment: exact drop-in and /etc/default/docker text, values that need
escaping, and values the schema refuses."""

import subprocess

import pytest
from pydantic import ValidationError

from sandbox_host.roles.docker_proxy.deploy import environment, render_defaults, render_dropin
from sandbox_host.roles.docker_proxy.settings import DockerProxySettings

HEADER = "# Managed by sandbox-host (group_vars: docker_proxy). Edits are overwritten."


def test_dropin_text():
    settings = DockerProxySettings(http_proxy="http://proxy:3128", https_proxy="http://proxy:3128",
                                   no_proxy=["localhost", ".corp.example", "10.0.0.0/8"])
    assert render_dropin(environment(settings)) == (
        f"{HEADER}\n"
        "[Service]\n"
        'Environment="HTTP_PROXY=http://proxy:3128"\n'
        'Environment="HTTPS_PROXY=http://proxy:3128"\n'
        'Environment="NO_PROXY=localhost,.corp.example,10.0.0.0/8"\n'
    )


def test_dropin_doubles_percent_and_keeps_dollar():
    # %40 is an encoded @ in the password: systemd would read "%4" as a specifier.
    settings = DockerProxySettings(https_proxy="http://lab%40corp:pa$$w0rd@proxy:3128",
                                   no_proxy=["fe80::1%eth0"])
    assert render_dropin(environment(settings)).splitlines()[2:] == [
        'Environment="HTTPS_PROXY=http://lab%%40corp:pa$$w0rd@proxy:3128"',
        'Environment="NO_PROXY=fe80::1%%eth0"',
    ]


def test_dropin_escapes_quotes_and_backslashes():
    # The schema refuses these in URLs; the renderer still writes any value so systemd reads it back.
    assert render_dropin({"X": 'a"b\\c'}).splitlines()[2] == 'Environment="X=a\\"b\\\\c"'


def test_no_proxy_means_no_environment():
    assert environment(DockerProxySettings()) == {}
    assert environment(DockerProxySettings(no_proxy=["localhost"])) == {}


DEFAULTS = ["# Docker Upstart and SysVinit configuration file", '#DOCKER_OPTS="--dns 8.8.8.8"']
BLOCK = [
    "# BEGIN sandbox-host docker_proxy",
    "export HTTPS_PROXY='http://lab%40corp:pa$$w0rd@proxy:3128'",
    "export NO_PROXY='localhost'",
    "# END sandbox-host docker_proxy",
]
ENV = {"HTTPS_PROXY": "http://lab%40corp:pa$$w0rd@proxy:3128", "NO_PROXY": "localhost"}


def test_defaults_block_appended_after_the_distro_text():
    assert render_defaults(DEFAULTS, ENV) == "\n".join(DEFAULTS + BLOCK) + "\n"


def test_defaults_block_replaced_in_place_and_removed():
    old = DEFAULTS[:1] + ["# BEGIN sandbox-host docker_proxy", 'export HTTP_PROXY="http://old:1"',
                          "# END sandbox-host docker_proxy"] + DEFAULTS[1:]
    assert render_defaults(old, ENV) == "\n".join(DEFAULTS + BLOCK) + "\n"
    assert render_defaults(old, {}) == "\n".join(DEFAULTS) + "\n"


def test_defaults_absent_and_nothing_to_write():
    assert render_defaults(None, {}) is None
    assert render_defaults(None, ENV) == "\n".join(BLOCK) + "\n"


@pytest.mark.parametrize("value", ["http://u:p%40ss@proxy:3128", "http://u:pa$$w0rd$HOME@p:1",
                                   "http://u:it's@p:1", "a\"b\\c`id`$(id)"])
def test_defaults_sourced_by_a_shell_give_the_exact_value(tmp_path, value):
    # /etc/init.d/docker sources the file with /bin/sh: nothing in the value may be expanded.
    path = tmp_path / "docker"
    path.write_text(render_defaults(DEFAULTS, {"HTTPS_PROXY": value}))
    shown = subprocess.run(["sh", "-c", '. "$1" && printf %s "$HTTPS_PROXY"', "sh", str(path)],
                           capture_output=True, text=True, check=True, env={"HOME": "/nowhere"})
    assert shown.stdout == value


def proxy_error(**values):
    with pytest.raises(ValidationError) as caught:
        DockerProxySettings(**values)
    return str(caught.value)


@pytest.mark.parametrize("url,reason", [
    ("http://u:p\nHTTP_PROXY=x@proxy:3128", "has U+000A at position 10"),
    ("http://u:p\r@proxy:3128", "has U+000D"),
    ("http://u:p s@proxy:3128", "has U+0020"),
    ('http://u:p"s@proxy:3128', "has '\"' at position 10"),
    ("http://u:p\\s@proxy:3128", "has '\\\\' at position 10"),
    ("http://u:100%@proxy:3128", "has '%' at position 12"),
    ("http://u:p%4x@proxy:3128", "has '%' at position 10"),
])
def test_proxy_urls_a_url_cannot_hold_are_refused(url, reason):
    message = proxy_error(https_proxy=url)
    assert reason in message and "percent-encode it" in message


@pytest.mark.parametrize("entry,reason", [
    ("corp.example\nHTTP_PROXY=x", "host name"),
    (" corp.example", "whitespace"),
    ('corp"example', "host name"),
    ("$HOME", "host name"),
    ("corp\\example", "host name"),
    ("100%", "host name"),
])
def test_no_proxy_entries_other_than_names_and_addresses_are_refused(entry, reason):
    assert reason in proxy_error(no_proxy=[entry])
