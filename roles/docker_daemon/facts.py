"""Facts docker_daemon decides from."""

from __future__ import annotations

import json

from pyinfra.api import FactBase

SEPARATOR = "--- routes ---"


class LinksAndRoutes(FactBase):
    """``{"links": ip -j -d link show, "routes": ip -j route show table all}``, parsed; what
    ``path_mtu.find`` reads. Empty lists on a host without iproute2."""

    @staticmethod
    def default():
        return {"links": [], "routes": []}

    def requires_command(self) -> str:
        return "ip"

    def command(self) -> str:
        # `table all`: VPN clients (wg-quick, NetworkManager) keep their routes in tables of their own.
        return f"ip -j -d link show && echo '{SEPARATOR}' && ip -j route show table all"

    def process(self, output):
        links_text, _, routes_text = "\n".join(output).partition(SEPARATOR)
        return {"links": json.loads(links_text or "[]"), "routes": json.loads(routes_text or "[]")}
