"""egress_proxy: the Squid sidecar and its allowlist (owned by the egress proxy role).

Domain entries end up inside squid.conf, so they are checked here, before anything is rendered:
only host-name syntax passes (letters, digits, hyphens, dots; no spaces, quotes, comments,
newlines, IP literals, or wildcards covering a whole top-level domain).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from sandbox_host.roles.common.types import Port, ProxyUrl, Section

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def _domain(value: str) -> str:
    """``api.anthropic.com`` (exactly that host) or ``*.example.com`` / ``.example.com``
    (example.com and every name under it). Returned in Squid's form: lowercase, ``.suffix``."""
    text = str(value).lower()
    wildcard = text.startswith(("*.", "."))
    name = text.removeprefix("*").removeprefix(".")
    if not _NAME.match(name):
        raise ValueError(
            "must be a host name (a-z 0-9 - .), optionally starting with '*.' or '.'; "
            "no spaces, quotes, comments or other characters"
        )
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise ValueError("must be a host name, not an IP address (the proxy refuses IP literals)")
    if re.fullmatch(r"[0-9.]+", name):
        raise ValueError("must be a host name, not a number")
    if wildcard and "." not in name:
        raise ValueError("a wildcard must name a domain with at least two labels (not a whole TLD)")
    return f".{name}" if wildcard else name


DomainPattern = Annotated[str, AfterValidator(_domain)]


def _upstream(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "http":
        raise ValueError("must be an http:// URL (Squid talks plain HTTP/CONNECT to a parent proxy)")
    if parts.password is not None and not parts.username:
        raise ValueError("must name a user with its password (http://user:password@host:port)")
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _NAME.match(host):
            raise ValueError("must name its host with a-z 0-9 - . only (it goes into squid.conf)") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be only scheme, host and port, e.g. http://proxy.corp.example:3128")
    return value


UpstreamUrl = Annotated[ProxyUrl, AfterValidator(_upstream)]


class EgressProxySettings(Section):
    enabled: bool = Field(
        default=True,
        description="false: no proxy; the agent on the internal network then reaches nothing outside.",
    )
    image: str = Field(
        default="sandbox-host-egress-proxy", pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        description="Image repository the proxy is built as (tagged by content hash, plus :latest).",
    )
    container_name: str = Field(
        default="sandbox-egress-proxy", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$",
        description="Name of the proxy container (what `docker logs` takes to show its JSON access log).",
    )
    allowed_domains: list[DomainPattern] = Field(
        default=[
        "api.anthropic.com",  # the Messages API: every request the agent makes
        "statsig.anthropic.com",  # feature flags; without it startup waits on retries
        "sentry.io",  # error reports (set DISABLE_ERROR_REPORTING=1 in the agent and drop this)
        "claude.ai",  # OAuth login and token refresh for subscription accounts
        "console.anthropic.com",  # OAuth for API (Console) accounts
    ],
        description=(
            "Names the agent may reach, exactly (api.anthropic.com) or with every subdomain "
            "(*.example.com or .example.com, both also match example.com itself). The defaults are "
            "what Claude Code needs to work:"
        ),
    )
    denied_domains: list[DomainPattern] = Field(
        default=[],
        description=(
            "registry.npmjs.org is left out on purpose: the image is built on the host, so the agent "
            "has no need to install packages at run time, and a package registry is an upload "
            "channel. Denied wins over allowed (e.g. allow .example.com but deny "
            "uploads.example.com)."
        ),
    )
    deny_private_destinations: bool = Field(
        default=True,
        description=(
            "Refuse allowed names that resolve to loopback, private (RFC 1918, CGNAT, IPv6 ULA) or "
            "link-local addresses: DNS rebinding into the host's networks, the cloud metadata service "
            "(169.254.169.254), the host itself at the egress bridge's IP. false: needed to reach an "
            "internal service (a package mirror) by name; list that name in allowed_domains."
        ),
    )
    allowed_connect_ports: list[Port] = Field(
        default=[443], min_length=1,
        description="Ports a CONNECT tunnel (https) may go to.",
    )
    allowed_http_ports: list[Port] = Field(
        default=[80],
        description=(
            "Ports plain-http requests may go to (allowed names only). [] refuses plain http "
            "entirely."
        ),
    )
    listen_ipv6: bool = Field(
        default=True,
        description=(
            "Listen dual-stack where the proxy's namespace has IPv6 (seed 004: a client that connects "
            "over IPv6 must not find the port closed); IPv4 only where it has none (the default "
            "sandbox networks). false: IPv4 only, always."
        ),
    )
    upstream_proxy: UpstreamUrl | None = Field(
        default=None,
        description=(
            "A corporate proxy every allowed request goes through (Squid cache_peer parent, "
            "never_direct): the only way out where the host may not connect directly. Denied and "
            "unlisted names are refused here first and never reach it; the JSON log still records "
            "every decision. http://host:port, or http://user:password@host:port for a proxy that "
            "asks for Basic credentials (URL-encode @ : % and the like): they go into "
            "upstream_peer_file only, never into the image, an environment or the deploy's output."
        ),
    )
    upstream_peer_file: str = Field(
        default="/etc/sandbox-host/egress-proxy/upstream-peer.conf", pattern=r"^/[A-Za-z0-9._/-]+/[A-Za-z0-9._-]+$",
        description=(
            "Host file holding Squid's cache_peer line for upstream_proxy (with its credentials), "
            "mounted read-only into the proxy container; its folder is root's alone (0700). "
            "Removed when upstream_proxy is unset."
        ),
    )
    memory: str = Field(
        default="256m", pattern=r"^[0-9]+[kmg]$",
        description="Memory limit of the proxy container.",
    )
    pids_limit: int = Field(
        default=256, ge=16, le=65536,
        description="Process limit of the proxy container.",
    )
