"""Facts host_network decides from."""

from pyinfra.api import FactBase


class MangleRules(FactBase):
    """``iptables -t mangle -S`` as lines; ``version=6`` for ip6tables. None without the tool."""

    def requires_command(self, version: int = 4) -> str:
        return "iptables" if version == 4 else "ip6tables"

    def command(self, version: int = 4) -> str:
        return f"{'iptables' if version == 4 else 'ip6tables'} -w -t mangle -S"

    def process(self, output):
        return [line.strip() for line in output if line.strip()]
