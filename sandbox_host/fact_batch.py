"""The facts a host was asked last time, read again in one round trip at the start of the next run.

A no-change rerun asks each host ~55 facts, one command and one SSH round trip each, one after
another (benchmarks/fact_count.py): on a fleet that shared 2 cores with its hosts, the round trips
and the hosts' sshd sessions were most of the per-host cost (issue 9). The deploy asks the same
facts, with the same arguments, run after run; so at the end of a run the fact memo's list of
what it read is saved per host (file names and arguments, never values), and the next run sends
all of them as one command (files/fact-batch.sh) and seeds the memo with each one's value.

The list decides only *which* facts are read early; every value is read in this run, from the
host, by the fact's own command and ``process()``, exactly as pyinfra's ``get_fact`` would read
it. Anything not certain is left to the fact's own command later: a command that failed, a
missing tool while operations run (while they are planned pyinfra answers the fact's default, and
so does the batch), output that pyinfra could not process, a fact with its own shell
or preconditions, or everything when the batch itself failed or timed out. An entry the deploy
no longer asks costs one command inside the batch; one it newly asks runs as before and is in the
next list. The memo (fact_memo.py) drops the seeded values with the rest as soon as the host
changes, so a value read early is used only while it is still what the fact would answer.

The lists live in ``$XDG_CACHE_HOME/sandbox-host/fact-lists/`` (``~/.cache`` by default), mode
0600. SANDBOX_HOST_FACT_BATCH=0 turns this off (and the memo's SANDBOX_HOST_FACT_MEMO=0 does too).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import json
import os
import secrets
import tempfile
from pathlib import Path

from pyinfra.api import FactBase
from pyinfra.api.command import StringCommand
from pyinfra.api.facts import _MISSING_COMMAND_MARKER, _make_command
from pyinfra.api.state import StateStage
from pyinfra.api.exceptions import FactProcessError

from sandbox_host import fact_memo
from sandbox_host.roles.common import scripts

SCRIPT = Path(__file__).parent / "files" / "fact-batch.sh"
VERSION = 1
# The whole batch's limit: far above a healthy host's (well under a second), short enough that a
# hung command costs little before the deploy asks again one by one.
TIMEOUT_SECONDS = 30
_PLAIN = (str, int, float, bool, type(None))


def enabled() -> bool:
    return fact_memo.active() and os.environ.get("SANDBOX_HOST_FACT_BATCH", "1") != "0"


def cache_dir() -> Path | None:
    """Where the lists live; None when the home folder is another user's (`sudo` that kept the
    caller's HOME): root's files must not land in a user's home, so that run lists nothing."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = Path.home()
        try:
            if home.stat().st_uid != os.geteuid():
                return None
        except OSError:
            return None
        base = str(home / ".cache")
    return Path(base) / "sandbox-host" / "fact-lists"


def list_path(host_name: str) -> Path | None:
    # A hash, not the name: inventory names may hold '/', '@' or a user.
    directory = cache_dir()
    return directory / (hashlib.sha256(host_name.encode()).hexdigest()[:32] + ".json") if directory else None


def _plain(value) -> bool:
    """JSON values built of exact str/int/float/bool/None (a MaskString, which pyinfra uses to keep
    a secret out of its output, is a str subclass and is never written)."""
    if type(value) in _PLAIN:
        return True
    if type(value) in (list, tuple):
        return all(_plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


# Connector arguments that may hold a secret: a read that has any of them set is never kept (it
# is simply not batched), so no password, environment value or stdin reaches the list's file.
_SECRET_CONNECTOR = ("_sudo_password", "_su_password", "_env", "_stdin")


def keepable(item: dict) -> bool:
    """Whether a read (fact_memo's entry) can be kept as plain data: a top-level fact class,
    plain JSON values, and no connector argument that may hold a secret."""
    connector = item["connector"]
    return ("." not in item["fact"] and _plain(item["args"]) and _plain(connector)
            and not any(connector.get(name) for name in _SECRET_CONNECTOR)
            # The batch evaluates commands with sh, and reads plain lines: a read that asked for
            # another shell or a terminal (output with "\r") is not batched.
            and connector.get("_shell_executable") in (None, "sh") and not connector.get("_get_pty"))


def _trusted(path: Path) -> bool:
    """The list and its folder are this user's and nobody else can write them: the list names
    commands this run sends to the host (as this user, maybe root)."""
    try:
        return all(p.stat().st_uid == os.geteuid() and not p.stat().st_mode & 0o022 for p in (path, path.parent))
    except OSError:
        return False


def load_list(host_name: str) -> list[dict]:
    """The saved list, or [] when there is none, it is not one this version wrote, or another
    user could have written it."""
    path = list_path(host_name)
    try:
        data = json.loads(path.read_text()) if path and _trusted(path) else None
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("facts"), list):
        return []
    return [e for e in data["facts"] if isinstance(e, dict) and {"module", "fact", "args", "connector"} <= e.keys()
            and isinstance(e["args"], dict) and isinstance(e["connector"], dict) and keepable(e)]


def save_list(host_name: str, entries: list[dict]) -> None:
    """Write atomically (another run may be reading it), mode 0600 in a 0700 folder. A list that
    cannot be written (read-only home, full disk) only costs the next run its batch."""
    path = list_path(host_name)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fact-list-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({"version": VERSION, "host": host_name, "facts": entries}, out)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _command_text(attribute, named: dict) -> str | None:
    """A fact's command() or requires_command(), built by pyinfra's own helper, as text."""
    value = _make_command(attribute, dict(named))  # a copy: the helper pops "self" from it
    if value is None or value == "":
        return None
    return value.get_raw_value() if isinstance(value, StringCommand) else str(value)


def fact_command(fact: FactBase, named: dict) -> str | None:
    """The shell command ``get_fact`` would run for this fact, with the same missing-command
    guard; None for a fact this module leaves to pyinfra (own shell, no command)."""
    if getattr(fact, "shell_executable", None):
        return None
    command = _command_text(fact.command, named)
    if command is None:
        return None
    required = _command_text(fact.requires_command, named)
    if required:
        command = (f"if command -v {required} >/dev/null 2>&1; then ( {command} ); "
                   f"else echo '{_MISSING_COMMAND_MARKER}'; fi")
    return command


def split_outputs(lines: list[str], nonce: str) -> list[tuple[int, list[str]]]:
    """fact-batch.sh's stdout lines -> [(exit status, the command's stdout lines as pyinfra reads
    them)], one per command that finished."""
    results, current = [], []
    for line in lines:
        status, _, tail = line.rpartition(" ")
        if tail == nonce and status.isdigit() and current:
            # The command printed OUTPUT, the script "\n": the lines since the last marker are
            # OUTPUT.split("\n"), so OUTPUT is their join, trailing newlines and all.
            results.append((int(status), _lines("\n".join(current))))
            current = []
        else:
            current.append(line)
    return results


def _lines(text: str) -> list[str]:
    """Text as pyinfra's connectors give it: split on newlines, without the last one's empty tail."""
    if text == "":
        return []
    parts = text.split("\n")
    return parts[:-1] if parts[-1] == "" else parts


# Where the facts a list may name come from: this package's and pyinfra's own fact modules.
_FACT_MODULES = ("sandbox_host.", "pyinfra.facts.")


def _resolve(item: dict, state, host):
    """(fact instance, command) for a saved entry, or None when it is not safe to batch now."""
    if not str(item["module"]).startswith(_FACT_MODULES):
        return None
    try:
        cls = getattr(importlib.import_module(item["module"]), item["fact"])
    except (ImportError, AttributeError, ValueError, TypeError):
        return None
    if not (isinstance(cls, type) and issubclass(cls, FactBase)) or not isinstance(item["args"], dict):
        return None
    fact = cls()
    try:
        if fact.check_preconditions(state, host):
            return None
        command = fact_command(fact, item["args"])
    except Exception:  # noqa: BLE001 - a changed fact signature: leave it to the deploy's own call
        return None
    return (fact, command) if command else None


def prime(host) -> int:
    """Read the host's saved list in one command per connector setting, seed the memo with each
    certain value, and arrange for this run's list to be saved at exit. Returns values seeded."""
    if not enabled():
        return 0
    memo = fact_memo.memo_of(host)
    if memo.batch_primed:
        return 0
    memo.batch_primed = True
    _remember(host.name, memo)
    groups: dict[str, list[tuple[dict, FactBase, str]]] = {}
    for item in load_list(host.name):
        resolved = _resolve(item, host.state, host)
        if resolved:
            groups.setdefault(json.dumps(item["connector"], sort_keys=True), []).append((item, *resolved))
    seeded = 0
    for connector_json, items in groups.items():
        seeded += _run_group(host, json.loads(connector_json), items, memo)
    return seeded


def _run_group(host, connector: dict, items, memo) -> int:
    nonce = secrets.token_hex(8)
    command = StringCommand(scripts.command(SCRIPT, TIMEOUT_SECONDS, nonce, *(c for _, _, c in items)))
    if not host.connected:
        host.connect(reason="to read the facts of its last run", raise_exceptions=True)
    try:
        status, output = fact_memo.unwrapped_run_shell_command(host, command, print_output=False, print_input=False, **connector)
    except Exception:  # noqa: BLE001 - connection trouble: the deploy's own fact calls will meet and report it
        return 0
    if not status:
        return 0
    seeded = 0
    for (item, fact, _), (code, lines) in zip(items, split_outputs(output.stdout_lines, nonce)):
        if code != 0:
            continue
        if lines == [_MISSING_COMMAND_MARKER]:
            # The tool is not installed. While operations are planned pyinfra answers the fact's
            # default, silently (the tool may be installed by an earlier operation); while they
            # run it warns, and pyinfra v4 will raise: that case is left to the fact's own call.
            if host.state.current_stage == StateStage.Execute:
                continue
            memo.seed_key(fact_memo.key_of(item["module"], item["fact"], item["args"], connector), fact.default(),
                          entry=item)
            seeded += 1
            continue
        try:
            value = fact.process(lines) if lines else fact.default()
        except FactProcessError:
            continue
        except Exception:  # noqa: BLE001 - pyinfra would raise here; let the fact's own call do so
            continue
        key = fact_memo.key_of(item["module"], item["fact"], item["args"], connector)
        memo.seed_key(key, value, entry=item)
        seeded += 1
    return seeded


# (host name, its memo) of every primed host: pyinfra's context `host` is gone by exit time.
_primed: list[tuple[str, fact_memo.FactMemo]] = []


def _remember(name: str, memo: fact_memo.FactMemo) -> None:
    if not _primed:
        atexit.register(save_all)
    _primed.append((name, memo))


def save_all() -> None:
    """At exit: each primed host's list of facts read in this run (none saved for a host that
    asked nothing, so a run that failed to connect keeps the last list)."""
    for name, memo in _primed:
        entries = [item for item in memo.read_entries() if keepable(item)]
        if entries:
            save_list(name, entries)
