"""launcher: the agent-sandbox command installed on the host (owned by the launcher role)."""

from __future__ import annotations

from pydantic import Field

from sandbox_host.roles.common.types import Section

_ABS_PATH = r"^/[A-Za-z0-9._/-]+$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class DoctorTargets(Section):
    # A URL the proxy must let through (tests point these at their own containers).
    allowed_url: str = Field(default="https://api.anthropic.com/", pattern=r"^https?://")
    # A URL the proxy must refuse.
    denied_url: str = Field(default="https://example.com/", pattern=r"^https?://")
    # A URL the sandbox must not reach without the proxy; null: allowed_url. An IP-address URL
    # tests the network path itself (a name usually stops at DNS already).
    direct_url: str | None = Field(default=None, pattern=r"^https?://")
    # A name that must not resolve inside the sandbox (the proxy resolves names); null: no check.
    dns_name: str | None = "api.anthropic.com"
    # Seconds each probe may take.
    timeout: int = Field(default=10, ge=1, le=120)


class LauncherSettings(Section):
    # Install agent-sandbox, its configuration and the image's rebuild context.
    enabled: bool = True
    # Where agent-sandbox is installed.
    install_path: str = Field(default="/usr/local/bin/agent-sandbox", pattern=_ABS_PATH)
    # The launcher's settings (image, networks, proxy, run policy), rendered by the deploy.
    config_path: str = Field(default="/etc/agent-sandbox/config.json", pattern=_ABS_PATH)
    # A copy of the agent image's build context, for `agent-sandbox update` / `--rebuild`.
    build_context_dir: str = Field(default="/usr/local/share/agent-sandbox/image", pattern=_ABS_PATH)
    # Name of the long-lived sandbox (`start`); `run` uses <name>-run-<pid>.
    container_name: str = Field(default="agent-sandbox", pattern=_NAME)
    # Container of the egress proxy, whose log `agent-sandbox logs` reads; null = the egress
    # proxy role's container name.
    proxy_container: str | None = Field(default=None, pattern=_NAME)
    # Field of the proxy's JSON log records that holds the decision (`logs --decision`).
    proxy_log_decision_field: str = "decision"
    # Credentials JSON on the host used when neither ANTHROPIC_API_KEY nor CLAUDE_CODE_OAUTH_TOKEN
    # is set ("~" is the invoking user's home); null = ~/.claude/.credentials.json if present.
    credentials_file: str | None = None
    # Host gitconfig copied into the sandbox (read-only mount, then copied).
    gitconfig: str = "~/.gitconfig"
    # What `agent-sandbox run DIR` starts inside the sandbox.
    agent_command: list[str] = ["claude"]
    # NO_PROXY inside the sandbox.
    no_proxy: list[str] = ["localhost", "127.0.0.1"]
    # What `agent-sandbox doctor` probes.
    doctor: DoctorTargets = Field(default_factory=DoctorTargets)
