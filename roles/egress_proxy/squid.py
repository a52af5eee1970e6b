"""squid.conf from the settings (templates/squid.conf.j2)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sandbox_host.roles.common import templating
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings

TEMPLATES = Path(__file__).parent / "templates"


def squid_domains(domains: list[str]) -> list[str]:
    """Sorted, without duplicates or names a ``.suffix`` entry already covers.

    Squid warns about (and may ignore) a name listed next to a wildcard that covers it.
    """
    unique = sorted(set(domains))
    suffixes = [d for d in unique if d.startswith(".")]

    def covered(domain: str) -> bool:
        name = domain.lstrip(".")
        return any(s != domain and (name == s[1:] or name.endswith(s)) for s in suffixes)

    return [d for d in unique if not covered(d)]


def build_context(settings: EgressProxySettings, port: int, client_subnet: str) -> dict[str, str]:
    """The proxy image's context files (the Dockerfile aside)."""
    return {"squid.conf": render(settings, port, client_subnet)}


def upstream(settings: EgressProxySettings) -> dict | None:
    """The parent proxy as Squid's cache_peer wants it: host (no brackets) and port."""
    if not settings.upstream_proxy:
        return None
    parts = urlsplit(settings.upstream_proxy)
    return {"host": parts.hostname, "port": parts.port or 3128}


def render(settings: EgressProxySettings, port: int, client_subnet: str) -> str:
    return templating.render(
        TEMPLATES,
        "squid.conf.j2",
        port=port,
        listen_ipv6=settings.listen_ipv6,
        deny_private_destinations=settings.deny_private_destinations,
        visible_hostname=settings.container_name,
        client_subnet=client_subnet,
        connect_ports=sorted(set(settings.allowed_connect_ports)),
        http_ports=sorted(set(settings.allowed_http_ports)),
        allowed=squid_domains(settings.allowed_domains),
        denied=squid_domains(settings.denied_domains),
        upstream=upstream(settings),
    )
