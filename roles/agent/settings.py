"""agent: the agent image and how its container runs (owned by the agent role)."""

from roles.common.types import Section


class AgentSettings(Section):
    pass
