"""launcher: the agent-sandbox command installed on the host (owned by the launcher role)."""

from roles.common.types import Section


class LauncherSettings(Section):
    pass
