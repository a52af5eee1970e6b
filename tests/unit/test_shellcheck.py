"""Shell programs are files, checked by shellcheck; Python code does not carry shell programs.

Every shell file of the repository (by extension .sh, or a sh/bash shebang: agent-entrypoint has
no extension) must pass shellcheck with no finding at all, and shell templates (*.sh.j2) must
pass once rendered. Skipped only where shellcheck is not installed (scripts/setup-test-machine.sh
installs it, so CI runs it).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox_host.roles.sandbox_network import deploy as sandbox_network_deploy

REPO = Path(__file__).resolve().parents[2]
# Where the project keeps code; .venv, .cache and .git are not the project's.
SHELL_ROOTS = ("scripts", "roles", "molecule", "sandbox_host", "deploys", "tests", "benchmarks", ".ci")
SHEBANG = re.compile(rb"^#!\s*(/usr)?/bin/(env\s+)?(ba|da)?sh\b")

needs_shellcheck = pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="shellcheck is not installed (apt-get install shellcheck)"
)


def is_shell(path: Path) -> bool:
    if path.suffix == ".sh":
        return True
    with path.open("rb") as handle:
        return bool(SHEBANG.match(handle.readline()))


def shell_files() -> list[Path]:
    found = []
    for root in SHELL_ROOTS:
        for path in sorted((REPO / root).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".j2" and is_shell(path):
                found.append(path)
    return found


def shell_templates() -> list[Path]:
    return [path for root in SHELL_ROOTS for path in sorted((REPO / root).rglob("*.j2")) if is_shell(path)]


# Every shell template, rendered as its role renders it (values as a deploy would give them).
RENDERED = {
    "roles/sandbox_network/templates/input-guard.sh.j2": lambda: sandbox_network_deploy.render(
        "input-guard.sh.j2", chain="SANDBOX-HOST-INPUT", bridges=["sbx-int0", "sbx-egr0"]
    ),
}


def shellcheck(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["shellcheck", "--format=gcc", *args], input=stdin, capture_output=True, text=True, cwd=REPO)


def test_shell_files_are_found_with_and_without_extension():
    found = {str(path.relative_to(REPO)) for path in shell_files()}
    assert {"scripts/run-tests.sh", "roles/agent/files/agent-entrypoint", ".ci/run",
            "roles/docker_daemon/files/restart-dockerd.sh", "sandbox_host/diagnose/files/run-probe.sh"} <= found
    assert "roles/agent/templates/Dockerfile.j2" not in found and "pyproject.toml" not in found


@needs_shellcheck
def test_every_shell_file_passes_shellcheck():
    files = [str(path.relative_to(REPO)) for path in shell_files()]
    result = shellcheck(*files)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_shellcheck
def test_every_shell_template_passes_shellcheck_once_rendered():
    templates = {str(path.relative_to(REPO)) for path in shell_templates()}
    assert templates == set(RENDERED), "add new shell templates to RENDERED with the values their role passes"
    for name, render in RENDERED.items():
        result = shellcheck("--shell=sh", "-", stdin=render())
        assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"


@needs_shellcheck
def test_shellcheck_reports_a_finding(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\ncd $1\n")
    result = shellcheck(str(bad))
    assert result.returncode != 0 and "SC2086" in result.stdout


# -- no shell programs in Python strings --------------------------------------------------------

PYTHON_ROOTS = ("roles", "sandbox_host", "deploys")
MAX_STATEMENTS = 5
# What only shell reads like: control flow keywords at the start of a statement (after a newline,
# ;, &&, ||, {), $? $( ${ $1, `|| {`, redirections to /dev/null or of stderr, set -e/-u, trap.
SHELLISH = re.compile(
    r"(?:^|[;\n&|{])\s*(?:then|elif|fi|do|done|esac|trap|set\s+-[a-z]*[eu])\b"
    r"|\$[?({1-9]|\|\|\s*\{|>\s*/dev/null|2>&1"
)
# What is left of `then { cmd`, `} 2>&1`, `fi` once keywords go: only the command counts.
KEYWORDS = re.compile(r"^\s*(?:(?:then|else|elif|fi|do|done|esac|[{}])(?:\s+|$))+")
REDIRECT_ONLY = re.compile(r"^(?:\d*[<>]+&?\S*\s*)+$")
DOCKERFILE = re.compile(r"^\s*(?:#\s*syntax=|FROM\s|ARG\s)", re.IGNORECASE)


def _text(node: ast.AST) -> str | None:
    """A string literal's text: f-string values and names joined with + read as "X"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part) or "X" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None or right is not None:
            return (left or "X") + (right or "X")
    return None


def is_shell_program(text: str) -> bool:
    """More than MAX_STATEMENTS statements with shell control flow; Jinja and Dockerfiles are not."""
    if "{%" in text or DOCKERFILE.match(text) or not SHELLISH.search(text):
        return False
    pieces = (KEYWORDS.sub("", piece).strip() for piece in re.split(r"[;\n]", text))
    statements = [s for s in pieces if s and not s.startswith("#") and not REDIRECT_ONLY.match(s)]
    return len(statements) > MAX_STATEMENTS


def embedded_shell(source: str) -> list[int]:
    """Line numbers of string literals (docstrings aside) that hold a shell program."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    found, seen = [], set()
    for node in ast.walk(tree):
        if id(node) in seen or id(node) in docstrings:
            continue
        text = _text(node)
        if text is None:
            continue
        seen.update(id(child) for child in ast.walk(node))  # an outer + chain was judged whole
        if is_shell_program(text):
            found.append(node.lineno)
    return found


# Files whose shell is being moved to files/ on another branch (issue 8: the gVisor smoke run and
# fact). Remove an entry once its file is clean: the test fails while a listed file is clean.
PENDING: set[str] = set()


def test_no_python_file_embeds_a_shell_program():
    offenders = {
        f"{path.relative_to(REPO)}:{line}"
        for root in PYTHON_ROOTS
        for path in sorted((REPO / root).rglob("*.py"))
        for line in embedded_shell(path.read_text())
    }
    pending = {offender for offender in offenders if offender.split(":")[0] in PENDING}
    assert not offenders - pending, (
        "shell programs belong in roles/<role>/files/*.sh (run them with roles/common/scripts.py): "
        + ", ".join(sorted(offenders - pending))
    )
    assert {offender.split(":")[0] for offender in pending} == PENDING, "clean now: remove from PENDING"


SHELL_IN_PYTHON = '''
SCRIPT = f"""
set -u
path=$1
if [ -e "$path" ]; then
  cp -p "$path" "$path.bak"
fi
mv {staged} "$path"
echo "installed $path" >&2
exit 0
"""
'''
ONE_LINE_CHAIN = (
    'CMD = ("if dockerd --help | grep -q x; then dockerd --validate; fi; " + "a; " + "b; " + "c; " + "d; " + "e")\n'
)
DOCKERFILE_IN_PYTHON = '''
DOCKERFILE = """FROM debian:bookworm
RUN if command -v update-ca-certificates; then update-ca-certificates; fi
RUN set -e; apt-get update; apt-get install -y curl; rm -rf /var/lib/apt/lists/*
RUN for f in a b; do echo "$f"; done
"""
'''
JINJA_IN_PYTHON = '''
TEMPLATE = """{% for bridge in bridges %}
iptables -A INPUT -i {{ bridge }} -j DROP
while iptables -D INPUT -i {{ bridge }}; do :; done
{% endfor %}
a
b
"""
'''
DOCSTRING = '''
def f():
    """Restart dockerd; then wait.
    If it fails, roll back; do that once.
    done
    fi
    one; two; three
    """
'''


def test_embedded_shell_detector_finds_shell_and_spares_dockerfiles_jinja_and_prose():
    assert embedded_shell(SHELL_IN_PYTHON) == [2]
    assert embedded_shell(ONE_LINE_CHAIN) == [1]
    assert embedded_shell(DOCKERFILE_IN_PYTHON) == []
    assert embedded_shell(JINJA_IN_PYTHON) == []
    assert embedded_shell(DOCSTRING) == []
