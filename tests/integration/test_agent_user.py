"""roles/agent/files/agent-user in a real Debian image: the agent user gets the host user's
UID/GID, including a macOS user's 501:20 where GID 20 is Debian's "dialout"."""

import subprocess

import pytest

from conftest import REPO

BASE = "sandbox-host-base:bookworm"
SCRIPT = REPO / "roles/agent/files/agent-user"


def in_base(*ids: str, prelude: str = "") -> subprocess.CompletedProcess:
    if subprocess.run(["docker", "image", "inspect", BASE], capture_output=True).returncode != 0:
        pytest.skip(f"{BASE} is not built (scripts/setup-test-machine.sh)")
    script = (f"{prelude}bash /agent-user agent {' '.join(ids)} || exit $?; id agent; "
              "stat -c '%u:%g %a' /home/agent/.claude /workspace; getent group dialout; true")
    return subprocess.run(["docker", "run", "--rm", "--network", "none", "-v", f"{SCRIPT}:/agent-user:ro", BASE,
                           "bash", "-c", script], capture_output=True, text=True, timeout=120)


def test_macos_ids_take_over_the_dialout_group():
    done = in_base("501", "20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["uid=501(agent) gid=20(agent) groups=20(agent)", "501:20 700", "501:20 755"]


def test_linux_ids_get_a_group_of_their_own():
    done = in_base("1000", "1000")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["uid=1000(agent) gid=1000(agent) groups=1000(agent)", "1000:1000 700", "1000:1000 755"]
    assert lines[3].startswith("dialout:x:20:")


def test_an_account_holding_the_uid_is_renamed():
    done = in_base("1000", "1000", prelude="useradd --uid 1000 --home-dir /nonexistent node && ")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "uid=1000(agent) gid=1000(agent) groups=1000(agent)"


def test_root_ids_are_refused():
    done = in_base("0", "0")
    assert done.returncode == 2 and "never runs as root" in done.stderr
