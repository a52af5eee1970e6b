"""egress_proxy: the Squid sidecar and its allowlist (owned by the egress proxy role)."""

from roles.common.types import Section


class EgressProxySettings(Section):
    pass
