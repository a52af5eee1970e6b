"""Validated value types shared by the role settings (one definition, one error message each)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError


class Section(BaseModel):
    """Base of every role's settings: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise ValueError("must be an IP address, not a host name") from None


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(str(value), strict=True))
    except ValueError as exc:
        raise ValueError(f"must be a CIDR network with no host bits set ({exc})") from None


# What a URL cannot hold literally (RFC 3986): whitespace and control characters (a newline
# would end the drop-in line and start another), quotes, backslashes; and a `%` that does not
# start a %XX escape. dockerd (Go's net/url) refuses such a proxy URL anyway.
_URL_REFUSED = re.compile(r'[\x00-\x20\x7f"\\<>^`{|}]|%(?![0-9A-Fa-f]{2})')


def _proxy_url(value: str) -> str:
    bad = _URL_REFUSED.search(str(value))
    if bad:
        char = bad.group()
        shown = repr(char) if char.isprintable() and char != " " else f"U+{ord(char):04X}"
        raise ValueError(
            f"has {shown} at position {bad.start()}: a URL cannot contain it literally; percent-encode it"
            " (e.g. a password's @ as %40, % as %25, \" as %22)"
        )
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
        raise ValueError("must be a URL with a scheme and a host, e.g. http://proxy.example.com:3128")
    if parts.port is None and ":" in parts.netloc.rsplit("@", 1)[-1].strip("[]"):
        raise ValueError("has an invalid port")
    return str(value)


_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def _no_proxy_entry(value: str) -> str:
    # NO_PROXY takes host names, .domain suffixes, IPs and CIDRs, optionally '*'. Nothing else
    # passes (no quotes, `$`, `%` but an IPv6 zone, backslashes or newlines).
    text = str(value)
    if text != text.strip():
        raise ValueError("must not start or end with whitespace")
    if text == "*":
        return text
    for check in (_ip, _network):
        try:
            return check(text)
        except ValueError:
            pass
    if _HOSTNAME.match(text.lstrip(".").removeprefix("*.")):
        return text
    raise ValueError("must be a host name, .domain, IP address or CIDR")


def _interface(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", value):
        raise ValueError("must be a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)")
    return value


def _mtu_setting(value):
    # One message per mistake (a plain union would report one per member).
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("mtu_setting", "must be auto, null or an MTU in bytes (68-65535)")
    if value < 68:
        raise PydanticCustomError("greater_than_equal", "Input should be greater than or equal to 68")
    if value > 65535:
        raise PydanticCustomError("less_than_equal", "Input should be less than or equal to 65535")
    return value


IPAddress = Annotated[str, AfterValidator(_ip)]
Network = Annotated[str, AfterValidator(_network)]
ProxyUrl = Annotated[str, AfterValidator(_proxy_url)]
NoProxyEntry = Annotated[str, AfterValidator(_no_proxy_entry)]
InterfaceName = Annotated[str, AfterValidator(_interface)]
Mtu = Annotated[int, Field(ge=68, le=65535)]
# "auto": found on the host at each deploy; None: not managed.
MtuSetting = Annotated[int | Literal["auto"] | None, PlainValidator(_mtu_setting)]
Port = Annotated[int, Field(ge=1, le=65535)]
HostName = Annotated[str, Field(pattern=_HOSTNAME.pattern)]


def overlapping(networks: dict[str, str]) -> list[str]:
    """Describe each pair of named networks that overlap."""
    parsed = [(name, ipaddress.ip_network(net)) for name, net in networks.items()]
    return [
        f"{a} ({na}) overlaps {b} ({nb})"
        for i, (a, na) in enumerate(parsed)
        for b, nb in parsed[i + 1 :]
        if na.version == nb.version and na.overlaps(nb)
    ]
