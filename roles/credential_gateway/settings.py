"""credential_gateway: the reverse proxy that adds the real API credential outside the sandbox."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from sandbox_host.roles.common.types import Port, Section
from sandbox_host.roles.egress_proxy.settings import DomainPattern


def _one_host(value: str) -> str:
    """The egress proxy's host-name check (nothing that could inject config), minus wildcards."""
    if value.startswith("."):
        raise ValueError("must be one host name, not a wildcard")
    return value


ApiHost = Annotated[DomainPattern, AfterValidator(_one_host)]


class CredentialGatewaySettings(Section):
    enabled: bool = Field(
        default=True,
        description=(
            "Build the gateway image; the launcher then keeps API keys and CLAUDE_CODE_OAUTH_TOKEN "
            "out of the sandbox (a per-user gateway adds them). false: every credential goes into "
            "the sandbox's state volume, as before."
        ),
    )
    image: str = Field(
        default="sandbox-host-credential-gateway",
        pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        description="Image repository the gateway is built as (tagged by content hash, plus :latest).",
    )
    name_prefix: str = Field(
        default="agent-sandbox-gateway", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$",
        description=(
            "Each host user gets the container <prefix>-<uid> and the volume <prefix>-<uid> (the "
            "credential, mounted into that gateway only)."
        ),
    )
    api_host: ApiHost = Field(
        default="api.anthropic.com",
        description=(
            "The one host the gateway forwards to, over TLS on api_port, its certificate verified "
            "against the system store plus images.extra_ca_certificates and upstream_ca_certificates."
        ),
    )
    api_port: Port = Field(default=443, description="Port of api_host.")
    upstream_ca_certificates: list[str] = Field(
        default=[],
        description=(
            "More CA certificates (PEM files on the machine running the deploy) the gateway trusts "
            "for api_host only, e.g. a test CA; nothing else in the sandbox trusts them."
        ),
    )
    port: Port = Field(
        default=8080,
        description="Port the gateway listens on (ANTHROPIC_BASE_URL=http://<gateway ip>:<port> in the sandbox).",
    )
    memory: str = Field(default="64m", pattern=r"^[0-9]+[kmg]$", description="Memory limit of each gateway container.")
    pids_limit: int = Field(default=64, ge=8, le=4096, description="Process limit of each gateway container.")
