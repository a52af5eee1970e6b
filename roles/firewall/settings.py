"""firewall: make firewalld or UFW let Docker's bridges through (seed 001, cause 2)."""

from typing import Literal

from pydantic import Field

from roles.common.types import InterfaceName, Network, Section


class FirewallSettings(Section):
    manage: bool = True
    # auto: whichever of firewalld/UFW is installed and active; none: leave the firewall alone.
    backend: Literal["auto", "firewalld", "ufw", "none"] = "auto"
    # firewalld zone the Docker bridges are bound to.
    firewalld_zone: str = Field(default="trusted", pattern=r"^[A-Za-z0-9_-]{1,17}$")
    # Bridges to trust besides docker0 and the sandbox's own bridges (added by the deploy).
    extra_interfaces: list[InterfaceName] = []
    # Subnets whose routed traffic UFW allows besides Docker's and the sandbox's (added by the deploy).
    extra_subnets: list[Network] = []
