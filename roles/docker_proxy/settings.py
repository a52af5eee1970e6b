"""docker_proxy: the HTTP proxy dockerd itself uses (pulls, builds), as a systemd drop-in."""

from pydantic import Field

from sandbox_host.roles.common.types import NoProxyEntry, ProxyUrl, Section


class DockerProxySettings(Section):
    dropin_path: str = Field(
        default="/etc/systemd/system/docker.service.d/http-proxy.conf",
        description="systemd drop-in of docker.service (hosts without systemd: /etc/default/docker instead).",
    )
    http_proxy: ProxyUrl | None = Field(
        default=None,
        description=(
            "Proxy for dockerd's plain-http requests. Unset both to remove the drop-in again. Credentials "
            "go in the URL percent-encoded (@ as %40); dockerd gets exactly this value (escaped for systemd "
            "and the shell), and it is never printed. Whitespace, quotes, backslashes are refused."
        ),
    )
    https_proxy: ProxyUrl | None = Field(
        default=None,
        description="Proxy for dockerd's https requests (registries).",
    )
    no_proxy: list[NoProxyEntry] = Field(
        default=["localhost", "127.0.0.1", "::1"],
        description="Hosts dockerd reaches directly (local registries, metadata services).",
    )
