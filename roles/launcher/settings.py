"""launcher: the agent-sandbox command installed on the host (owned by the launcher role)."""

from __future__ import annotations

from pydantic import Field

from sandbox_host.roles.common.types import Section

_ABS_PATH = r"^/[A-Za-z0-9._/-]+$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class DoctorTargets(Section):
    allowed_url: str = Field(
        default="https://api.anthropic.com/", pattern=r"^https?://",
        description="A URL the proxy must let through (tests point these at their own containers).",
    )
    denied_url: str = Field(
        default="https://example.com/", pattern=r"^https?://",
        description="A URL the proxy must refuse.",
    )
    direct_url: str | None = Field(
        default=None, pattern=r"^https?://",
        description=(
            "A URL the sandbox must not reach without the proxy; null: allowed_url. An IP-address URL "
            "tests the network path itself (a name usually stops at DNS already)."
        ),
    )
    dns_name: str | None = Field(
        default="api.anthropic.com",
        description=(
            "A name that must not resolve inside the sandbox (the proxy resolves names); null: no "
            "check."
        ),
    )
    timeout: int = Field(
        default=10, ge=1, le=120,
        description="Seconds each probe may take.",
    )


class LauncherSettings(Section):
    enabled: bool = Field(
        default=True,
        description="Install agent-sandbox, its configuration and the image's rebuild context.",
    )
    install_path: str = Field(
        default="/usr/local/bin/agent-sandbox", pattern=_ABS_PATH,
        description="Where agent-sandbox is installed.",
    )
    config_path: str = Field(
        default="/etc/agent-sandbox/config.json", pattern=_ABS_PATH,
        description="The launcher's settings (image, networks, proxy, run policy), rendered by the deploy.",
    )
    build_context_dir: str = Field(
        default="/usr/local/share/agent-sandbox/image", pattern=_ABS_PATH,
        description="A copy of the agent image's build context, for `agent-sandbox update` / `--rebuild`.",
    )
    container_name: str = Field(
        default="agent-sandbox", pattern=_NAME,
        description="Name of the long-lived sandbox (`start`); `run` uses <name>-run-<pid>.",
    )
    proxy_container: str | None = Field(
        default=None, pattern=_NAME,
        description=(
            "Container of the egress proxy, whose log `agent-sandbox logs` reads; null = the egress "
            "proxy role's container name."
        ),
    )
    proxy_log_decision_field: str = Field(
        default="decision",
        description="Field of the proxy's JSON log records that holds the decision (`logs --decision`).",
    )
    credentials_file: str | None = Field(
        default=None,
        description=(
            "Credentials JSON on the host used when neither ANTHROPIC_API_KEY nor "
            "CLAUDE_CODE_OAUTH_TOKEN is set (\"~\" is the invoking user's home); null = "
            "~/.claude/.credentials.json if present."
        ),
    )
    gitconfig: str = Field(
        default="~/.gitconfig",
        description="Host gitconfig copied into the sandbox (read-only mount, then copied).",
    )
    agent_command: list[str] = Field(
        default=["claude"],
        description="What `agent-sandbox run DIR` starts inside the sandbox.",
    )
    no_proxy: list[str] = Field(
        default=["localhost", "127.0.0.1"],
        description="NO_PROXY inside the sandbox.",
    )
    doctor: DoctorTargets = Field(
        default_factory=DoctorTargets,
        description="What `agent-sandbox doctor` probes.",
    )
