"""docker_proxy: the HTTP proxy dockerd itself uses (pulls, builds), as a systemd drop-in."""

from sandbox_host.roles.common.types import NoProxyEntry, ProxyUrl, Section


class DockerProxySettings(Section):
    # systemd drop-in of docker.service (hosts without systemd: /etc/default/docker instead).
    dropin_path: str = "/etc/systemd/system/docker.service.d/http-proxy.conf"
    # Proxy for dockerd's plain-http requests. Unset both to remove the drop-in again.
    http_proxy: ProxyUrl | None = None
    # Proxy for dockerd's https requests (registries).
    https_proxy: ProxyUrl | None = None
    # Hosts dockerd reaches directly (local registries, metadata services).
    no_proxy: list[NoProxyEntry] = ["localhost", "127.0.0.1", "::1"]
