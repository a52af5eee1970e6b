"""Load group_vars/ YAML, compose every role's settings section, validate before any host is touched.

Each role owns one top-level section (``docker_daemon:``, ``firewall:`` ...) and declares it as a
pydantic model in ``roles/<role>/settings.py``. ``HostConfig`` (sandbox_host/config/schema.py) composes
them. This module only knows about files: which ones apply to a host, how they merge, and how a
validation error is turned into a message that names the file, the key and the reason.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from sandbox_host.config.schema import HostConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GROUP_VARS = REPO_ROOT / "group_vars"
# A colon-separated list of group_vars folders layered over the checkout's group_vars/, in order
# (later wins). Molecule scenarios add their own folders; a site keeps its settings outside the
# checkout. sudo drops this variable: `sandbox-host deploy --group-vars DIR` or
# `sudo --preserve-env=SANDBOX_HOST_GROUP_VARS` keep it.
GROUP_VARS_ENV = "SANDBOX_HOST_GROUP_VARS"


class ConfigError(Exception):
    """A group_vars file is unreadable or a value is invalid. The message is meant for people."""


@dataclass
class _Layered:
    """Deep-merged data plus, for every key path, the file that set it last."""

    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[tuple, Path] = field(default_factory=dict)

    def overlay(self, layer: dict[str, Any], source: Path) -> None:
        _merge(self.data, layer, (), source, self.origin)

    def origin_of(self, loc: tuple) -> Path | None:
        # The most specific recorded ancestor wins: an error in a list item is blamed on the file
        # that set the list.
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in self.origin:
                return self.origin[loc[:cut]]
        return None


def _merge(into: dict, layer: dict, prefix: tuple, source: Path, origin: dict) -> None:
    for key, value in layer.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, path, source, origin)
        else:
            into[key] = value
        origin[path] = source
        if isinstance(value, dict):
            for sub_path in _leaf_paths(value, path):
                origin[sub_path] = source


def _leaf_paths(value: dict, prefix: tuple) -> Iterable[tuple]:
    for key, sub in value.items():
        yield prefix + (key,)
        if isinstance(sub, dict):
            yield from _leaf_paths(sub, prefix + (key,))


def group_vars_dirs() -> list[Path]:
    """The checkout's group_vars/, then every folder of GROUP_VARS_ENV (each once, first place kept)."""
    layers = [DEFAULT_GROUP_VARS] + [Path(part) for part in os.environ.get(GROUP_VARS_ENV, "").split(":") if part]
    seen, ordered = set(), []
    for layer in layers:
        key = layer.resolve()
        if key not in seen:
            seen.add(key)
            ordered.append(layer)
    for layer in ordered[1:]:
        if not layer.is_dir():
            raise ConfigError(f"{GROUP_VARS_ENV}: {layer}: not a directory")
    return ordered


def _as_dirs(directory: Path | list[Path] | None) -> list[Path]:
    if directory is None:
        return group_vars_dirs()
    return [directory] if isinstance(directory, Path) else list(directory)


# libyaml's safe loader where PyYAML was built with it (several times faster; same documents).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(), Loader=_SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of role sections")
    return loaded


# user:password@ in a URL (proxy settings carry credentials): never shown in a message.
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def _shown(value: Any) -> str:
    return _USERINFO.sub("***@", repr(value))


def _describe(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _format_errors(exc: ValidationError, layered: _Layered, fallback: Path) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        source = layered.origin_of(loc) or fallback
        reason = error["msg"]
        if error["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling; see the role's settings.py for valid keys)"
        got = error.get("input")
        shown = "" if error["type"] == "extra_forbidden" or isinstance(got, dict) else f" (got {_shown(got)})"
        lines.append(f"{source}: {_describe(loc)}: {reason}{shown}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load(groups: Iterable[str] = (), directory: Path | list[Path] | None = None):
    """Return the validated HostConfig for a host in ``groups``.

    Per folder (see GROUP_VARS_ENV): all.yml, then each group's file.
    """
    groups = list(groups)
    layered = _Layered()
    files = [d / name for d in _as_dirs(directory) for name in ["all.yml"] + [f"{g}.yml" for g in groups]]
    for path in files:
        if path.exists():
            layered.overlay(_read_yaml(path), path)
    try:
        loaded = HostConfig.model_validate(layered.data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, layered, files[0])) from None
    problems = loaded.cross_checks()
    if problems:
        lines = [f"{layered.origin_of(loc) or files[0]}: {_describe(loc)}: {why}" for loc, why in problems]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return loaded


def group_files(directory: Path | list[Path] | None = None) -> list[str]:
    """Names of every group that has a file in the group_vars folders (all.yml excluded)."""
    return sorted({p.stem for d in _as_dirs(directory) for p in d.glob("*.yml") if p.stem != "all"})


# validate_all's verdicts in this process, by the files' identities: the deploy calls it once per
# host, and a 20-host fleet would otherwise parse and validate every file 20 times.
_valid: set[tuple] = set()


def _files_signature(directory: Path | list[Path] | None) -> tuple:
    files = sorted(p for d in _as_dirs(directory) for p in d.glob("*.yml"))
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def validate_all(directory: Path | list[Path] | None = None) -> None:
    """Validate all.yml and each group file over it, so one bad file stops every run up front."""
    signature = _files_signature(directory)
    if signature in _valid:
        return
    errors = []
    for groups in [()] + [(group,) for group in group_files(directory)]:
        try:
            load(groups, directory)
        except ConfigError as exc:
            errors.append(str(exc))
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    _valid.add(signature)


def load_or_exit(groups: Iterable[str] = ()) -> HostConfig:
    """For entry points (deploy files, the CLI): validate every group_vars file, then load this
    host's settings; a bad value ends the process with exit code 2 and the message alone (file,
    key, reason), no traceback, before any host is touched."""
    try:
        validate_all()
        return load(groups)
    except ConfigError as exc:
        print(f"sandbox-host: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
