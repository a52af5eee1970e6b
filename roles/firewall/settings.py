"""firewall: make firewalld or UFW let Docker's bridges through (seed 001, cause 2)."""

from typing import Literal

from pydantic import Field

from sandbox_host.roles.common.types import InterfaceName, Network, Section


class FirewallSettings(Section):
    manage: bool = Field(
        default=True,
        description="Let this project configure the host firewall at all (false: never touch it).",
    )
    backend: Literal["auto", "firewalld", "ufw", "none"] = Field(
        default="auto",
        description=(
            "auto: whichever of firewalld/UFW is installed and active (both, if both are); none: "
            "leave the firewall alone. A backend that is installed but stopped/inactive is left alone "
            "too."
        ),
    )
    firewalld_zone: str = Field(
        default="docker", pattern=r"^[A-Za-z0-9_-]{1,17}$",
        description=(
            "firewalld zone the bridges are bound to, permanently and at runtime; created with target "
            "ACCEPT if missing. Default `docker`, not `trusted`: Docker >= 20.10 puts its bridges in "
            "its own `docker` zone (target ACCEPT, like trusted) and refuses to start while docker0 "
            "is bound to any other zone (\"Failed to program NAT chain: ZONE_CONFLICT: 'docker0' "
            "already bound to 'trusted'\", measured on Docker 20.10.24; moby#41609, moby#52642). "
            "Another zone is only safe with Docker < 20.10 or `iptables: false`."
        ),
    )
    extra_interfaces: list[InterfaceName] = Field(
        default=[],
        description="Bridges to bind besides docker0 and the sandbox's own bridges (added by the deploy).",
    )
    extra_subnets: list[Network] = Field(
        default=[],
        description=(
            "Subnets whose routed traffic UFW allows besides Docker's and the sandbox's (added by the "
            "deploy)."
        ),
    )
    ufw_forward_policy: Literal["deny", "reject", "allow", "keep"] = Field(
        default="deny",
        description=(
            "UFW's DEFAULT_FORWARD_POLICY. deny (UFW's own default): forwarded traffic is allowed "
            "only from the Docker subnets (`ufw route allow from <subnet>`), so the host does not "
            "become a router between its other interfaces (VPN, LAN). allow: forward everything. "
            "keep: leave it."
        ),
    )
