"""A laptop after scripts/bootstrap-laptop.sh (molecule laptop scenario): alice ran it as herself;
bob is a second account on the same machine. Each one's sandbox runs as them, with their own
state volume and credentials; explicit credentials win, and the launcher says so in one sentence.

The checks run as root over SSH and act as the users with runuser (a fresh login: groups from
/etc/group, so the docker group the bootstrap added counts).
"""

import os
import shlex

import pytest

pytestmark = [
    pytest.mark.laptop,
    pytest.mark.skipif(os.environ.get("MOLECULE_SCENARIO_NAME") != "laptop",
                       reason="needs the laptop scenario's test host (alice bootstrapped, bob)"),
]

CHECKOUT = "/home/alice/sandbox-host"
ALICE_TOKEN = "sk-ant-oat01-FAKE-ALICE"  # in alice's ~/.claude/.credentials.json (prepare.yml)
BOB_KEY = "sk-ant-api03-FAKE-BOB-0000"
ALICE_KEY_1 = "sk-ant-api03-FAKE-ALICE-ROTATED-1"
ALICE_KEY_2 = "sk-ant-api03-FAKE-ALICE-ROTATED-2"


def as_user(host, user, command, **env):
    """Run a shell command as a user in a fresh login-like environment; env: extra variables."""
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    inner = f"cd ~ && {command}"
    return host.run(f"runuser -u {user} -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/{user} USER={user} "
                    f"{assignments} bash -c {shlex.quote(inner)}")


def sandbox(host, user, args, **env):
    return as_user(host, user, f"mkdir -p ~/project && agent-sandbox {args}", **env)


@pytest.fixture(scope="module", autouse=True)
def bob_may_use_docker(host):
    # What an administrator does for a second person; bob never had sudo.
    host.check_output("usermod -aG docker bob")


def test_the_checkout_has_nothing_owned_by_root(host):
    assert host.check_output(f"find {CHECKOUT} -user root -print -quit") == ""
    assert host.file(f"{CHECKOUT}/.venv").user == "alice"
    assert host.check_output(f"find {CHECKOUT}/.venv/bin/sandbox-host -printf %u") == "alice"


def test_alice_is_in_the_docker_group(host):
    assert "docker" in host.check_output("id -nG alice").split()


def test_alice_runs_claude_with_her_login(host):
    done = sandbox(host, "alice", "run project -- claude --version")
    assert done.rc == 0, done.stderr
    assert "Claude Code" in done.stdout
    assert ALICE_TOKEN not in done.stdout + done.stderr
    assert "credentials: using the credentials-json" in done.stderr


def test_the_sandbox_runs_as_the_user_with_their_own_volume(host):
    out = sandbox(host, "alice", "run project -- sh -c 'id -u; id -un; find ~/.claude -maxdepth 0 -printf \"%U %m\\n\"; "
                  "touch /workspace/by-alice; echo alice-history > ~/.claude/alice-marker'")
    assert out.rc == 0, out.stderr
    assert out.stdout.splitlines()[:3] == ["1000", "agent", "1000 700"]
    assert host.file("/home/alice/project/by-alice").user == "alice"


def test_bob_sees_only_his_own_credentials_and_state(host):
    script = ("id -u; id -un; cat ~/.claude/.api-key; echo; ls -A ~/.claude | sort | tr '\\n' ' '; echo; "
              "grep -rl FAKE-ALICE ~/.claude || echo no-alice-secret; touch /workspace/by-bob")
    done = sandbox(host, "bob", f"run project -- sh -c {shlex.quote(script)}", ANTHROPIC_API_KEY=BOB_KEY)
    assert done.rc == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["1001", "agent", BOB_KEY]
    assert "alice-marker" not in lines[3] and ".credentials.json" not in lines[3]
    assert lines[4] == "no-alice-secret"
    assert host.file("/home/bob/project/by-bob").user == "bob"
    volumes = host.check_output("docker volume ls --format '{{.Name}} {{.Labels}}'")
    assert "agent-sandbox-state-1000" in volumes and "agent-sandbox-state-1001" in volumes


def test_alice_keeps_her_history_and_never_sees_bobs_key(host):
    done = sandbox(host, "alice", "run project -- sh -c 'cat ~/.claude/alice-marker; grep -rl FAKE-BOB ~/.claude || echo no-bob-secret'")
    assert done.rc == 0, done.stderr
    assert done.stdout.splitlines() == ["alice-history", "no-bob-secret"]


def stored(host, user, **env):
    """Run the sandbox once; (the launcher's credentials sentence, what the volume holds)."""
    done = sandbox(host, user, "run project -- sh -c 'cat ~/.claude/.api-key 2>/dev/null || "
                   "jq -r .claudeAiOauth.accessToken ~/.claude/.credentials.json'", **env)
    assert done.rc == 0, done.stderr
    sentence = [line for line in done.stderr.splitlines() if line.startswith("credentials:")]
    return sentence, done.stdout.strip()


def test_an_explicit_key_replaces_the_stored_login_and_a_rotated_one_replaces_it(host):
    sentence, value = stored(host, "alice", ANTHROPIC_API_KEY=ALICE_KEY_1)
    assert sentence == ["credentials: using the api-key from $ANTHROPIC_API_KEY; it replaced the credentials-json "
                        "stored in the state volume."]
    assert value == ALICE_KEY_1
    sentence, value = stored(host, "alice", ANTHROPIC_API_KEY=ALICE_KEY_1)
    assert sentence == ["credentials: using the api-key from $ANTHROPIC_API_KEY, the same as stored in the state volume."]
    sentence, value = stored(host, "alice", ANTHROPIC_API_KEY=ALICE_KEY_2)
    assert "it replaced the api-key stored" in sentence[0] and value == ALICE_KEY_2


def test_an_implicit_file_does_not_overwrite_the_volume_unless_fresh_creds(host):
    sentence, value = stored(host, "alice")
    assert sentence == ["credentials: using the api-key stored in the state volume; /home/alice/.claude/.credentials.json "
                        "was not copied over it (--fresh-creds replaces it)."]
    assert value == ALICE_KEY_2
    done = sandbox(host, "alice", "run --fresh-creds project -- sh -c 'jq -r .claudeAiOauth.accessToken ~/.claude/.credentials.json'")
    assert done.rc == 0, done.stderr
    assert done.stdout.strip() == ALICE_TOKEN
    assert ALICE_TOKEN not in done.stderr


def test_stop_says_when_nothing_was_running(host):
    done = sandbox(host, "bob", "stop")
    assert done.rc == 0 and done.stdout.strip() == "agent-sandbox-1001 was not running"
    assert sandbox(host, "bob", "start project", ANTHROPIC_API_KEY=BOB_KEY).rc == 0
    # alice's stop does not touch bob's sandbox
    assert sandbox(host, "alice", "stop").stdout.strip() == "agent-sandbox-1000 was not running"
    done = sandbox(host, "bob", "stop")
    assert done.stdout.strip() == "stopped agent-sandbox-1001"
