"""docker_proxy: the HTTP proxy dockerd itself uses (pulls, builds), as a systemd drop-in."""

from roles.common.types import NoProxyEntry, ProxyUrl, Section


class DockerProxySettings(Section):
    dropin_path: str = "/etc/systemd/system/docker.service.d/http-proxy.conf"
    # Unset both to remove the drop-in again.
    http_proxy: ProxyUrl | None = None
    https_proxy: ProxyUrl | None = None
    # Hosts dockerd reaches directly (local registries, metadata services).
    no_proxy: list[NoProxyEntry] = ["localhost", "127.0.0.1", "::1"]
