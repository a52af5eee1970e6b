"""A laptop after scripts/bootstrap-laptop.sh (molecule laptop scenario): alice ran it as herself;
bob is a second account on the same machine. Each one's sandbox runs as them, with their own
state volume; each one's API key sits in their own credential gateway, which forwards only for
their own sandboxes; explicit credentials win, and the launcher says so in one sentence.

The gateway's api_host is a stand-in for the API (tests/host/api_standin_lab.py) with a test CA
that prepare.yml made and put in /etc/sandbox-host-test (molecule/laptop/group_vars). alice's
`claude login` file (a credentials JSON, refresh token) keeps the in-sandbox path covered here.

The checks run as root over SSH and act as the users with runuser (a fresh login: groups from
/etc/group, so the docker group the bootstrap added counts).
"""

import json
import os
import shlex
from pathlib import Path

import api_standin_lab as lab_tools
import pytest
from api_standin_lab import ASK_GATEWAY, sh

from sandbox_host import config

pytestmark = [
    pytest.mark.laptop,
    pytest.mark.skipif(os.environ.get("MOLECULE_SCENARIO_NAME") != "laptop",
                       reason="needs the laptop scenario's test host (alice bootstrapped, bob)"),
]

REPO = Path(__file__).resolve().parents[2]
CHECKOUT = "/home/alice/sandbox-host"
ALICE_TOKEN = "sk-ant-oat01-FAKE-ALICE"  # in alice's ~/.claude/.credentials.json (prepare.yml)
BOB_KEY = "sk-ant-api03-FAKE-BOB-0000"
ALICE_KEY_1 = "sk-ant-api03-FAKE-ALICE-ROTATED-1"
ALICE_KEY_2 = "sk-ant-api03-FAKE-ALICE-ROTATED-2"
ALICE, BOB = 1000, 1001
PLACEHOLDER_PREFIX = "sk-ant-api03-sandbox-"
STANDIN = "laptop-api-standin"
STANDIN_FILES = "/etc/sandbox-host-test"  # prepare.yml: api-standin-{ca,server}.pem, api-standin-server.key


def as_user(host, user, command, **env):
    """Run a shell command as a user in a fresh login-like environment; env: extra variables."""
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    inner = f"cd ~ && {command}"
    return host.run(f"runuser -u {user} -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/{user} USER={user} "
                    f"{assignments} bash -c {shlex.quote(inner)}")


def sandbox(host, user, args, **env):
    return as_user(host, user, f"mkdir -p ~/project && agent-sandbox {args}", **env)


def said(done, prefix):
    return [line for line in done.stderr.splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def laptop():
    """The laptop's settings, composed as converge.yml composes them."""
    return config.load(["laptop"], [REPO / "group_vars", REPO / "molecule/shared/group_vars",
                                    REPO / "molecule/laptop/group_vars"])


def gateway(laptop, uid):
    return f"{laptop.credential_gateway.name_prefix}-{uid}"


def gateway_file(host, laptop, uid, name="credential.conf"):
    """A file of the user's gateway volume, read as root on the host (what that gateway holds)."""
    mountpoint = sh(host, f"docker volume inspect --format '{{{{.Mountpoint}}}}' {gateway(laptop, uid)}").stdout.strip()
    return host.file(f"{mountpoint}/{name}")


@pytest.fixture(scope="module", autouse=True)
def bob_may_use_docker(host):
    # What an administrator does for a second person; bob never had sudo.
    host.check_output("usermod -aG docker bob")


@pytest.fixture(scope="module")
def standin(host, laptop):
    """The API stand-in on the egress network, as the gateways' api_host."""
    assert laptop.credential_gateway.enabled and laptop.credential_gateway.api_host == lab_tools.STANDIN_NAME
    host.run(f"docker rm -f {STANDIN}")
    pem, key = (host.file(f"{STANDIN_FILES}/api-standin-{name}").content_string for name in ("server.pem", "server.key"))
    lab_tools.start_standin(host, STANDIN, laptop.sandbox_network.egress_network, laptop.images.base_image,
                            f"/run/{STANDIN}", pem, key)
    yield lambda: lab_tools.standin_requests(host, STANDIN)
    host.run(f"docker rm -f {STANDIN}; rm -rf /run/{STANDIN}")


def ask_through_gateway(host, user, standin, *flags, **env):
    """One Messages request from a fresh sandbox of ``user``; the x-api-key that arrived."""
    before = len(standin())
    done = sandbox(host, user, f"run {' '.join(flags)} project -- bash -c {shlex.quote(ASK_GATEWAY)}", **env)
    assert done.rc == 0 and "standin-reply-ok" in done.stdout, done.stdout + done.stderr
    arrived = standin()[before:]
    assert len(arrived) == 1, arrived
    return arrived[0]["x-api-key"], done


def test_the_checkout_has_nothing_owned_by_root(host):
    assert host.check_output(f"find {CHECKOUT} -user root -print -quit") == ""
    assert host.file(f"{CHECKOUT}/.venv").user == "alice"
    assert host.check_output(f"find {CHECKOUT}/.venv/bin/sandbox-host -printf %u") == "alice"


def test_alice_is_in_the_docker_group(host):
    assert "docker" in host.check_output("id -nG alice").split()


def test_alice_runs_claude_with_her_login_in_the_sandbox(host):
    # A credentials JSON carries a refresh token the CLI must use itself: in-sandbox mode.
    done = sandbox(host, "alice", "run project -- claude --version")
    assert done.rc == 0, done.stderr
    assert "Claude Code" in done.stdout
    assert ALICE_TOKEN not in done.stdout + done.stderr
    assert "credentials: using the credentials-json" in done.stderr
    assert "refresh token the agent must use itself" in done.stderr


def test_the_sandbox_runs_as_the_user_with_their_own_volume(host):
    out = sandbox(host, "alice", "run project -- sh -c 'id -u; id -un; find ~/.claude -maxdepth 0 -printf \"%U %m\\n\"; "
                  "touch /workspace/by-alice; echo alice-history > ~/.claude/alice-marker'")
    assert out.rc == 0, out.stderr
    assert out.stdout.splitlines()[:3] == ["1000", "agent", "1000 700"]
    assert host.file("/home/alice/project/by-alice").user == "alice"


def test_bob_sees_only_his_own_state_and_a_placeholder(host, laptop):
    script = ("id -u; id -un; agent-api-key; echo; ls -A ~/.claude | sort | tr '\\n' ' '; echo; "
              "grep -rlE 'FAKE-(ALICE|BOB)' ~/.claude || echo no-real-secret; touch /workspace/by-bob")
    done = sandbox(host, "bob", f"run project -- sh -c {shlex.quote(script)}", ANTHROPIC_API_KEY=BOB_KEY)
    assert done.rc == 0, done.stderr
    assert said(done, "gateway:") == [f"gateway: the api-key from $ANTHROPIC_API_KEY is now in {gateway(laptop, BOB)} "
                                      "(it had none); the sandbox gets a placeholder."]
    lines = done.stdout.splitlines()
    assert lines[:2] == ["1001", "agent"]
    assert lines[2].startswith(PLACEHOLDER_PREFIX) and BOB_KEY not in lines[2]
    assert "alice-marker" not in lines[3] and ".credentials.json" not in lines[3]
    assert lines[4] == "no-real-secret"
    assert host.file("/home/bob/project/by-bob").user == "bob"
    volumes = host.check_output("docker volume ls --format '{{.Name}}'").split()
    assert {"agent-sandbox-state-1000", "agent-sandbox-state-1001", gateway(laptop, BOB)} <= set(volumes)


def test_alice_keeps_her_history_and_never_sees_bobs_key(host):
    done = sandbox(host, "alice", "run project -- sh -c 'cat ~/.claude/alice-marker; grep -rl FAKE-BOB ~/.claude || echo no-bob-secret'")
    assert done.rc == 0, done.stderr
    assert done.stdout.splitlines() == ["alice-history", "no-bob-secret"]


def test_an_explicit_key_goes_to_alices_own_gateway_and_replaces_her_login_in_the_sandbox(host, laptop):
    done = sandbox(host, "alice", "run project -- agent-api-key", ANTHROPIC_API_KEY=ALICE_KEY_1)
    assert done.rc == 0, done.stderr
    assert said(done, "gateway:") == [f"gateway: the api-key from $ANTHROPIC_API_KEY is now in {gateway(laptop, ALICE)} "
                                      "(it had none); the sandbox gets a placeholder."]
    assert said(done, "credentials:") == [
        f"credentials: using the api-key from the credential gateway {gateway(laptop, ALICE)} (placeholder); it "
        "replaced the credentials-json stored in the state volume."]
    assert done.stdout.startswith(PLACEHOLDER_PREFIX) and ALICE_KEY_1 not in done.stdout + done.stderr
    again = sandbox(host, "alice", "run project -- true", ANTHROPIC_API_KEY=ALICE_KEY_1)
    assert said(again, "gateway:") == [f"gateway: {gateway(laptop, ALICE)} holds the api-key from $ANTHROPIC_API_KEY already."]


def test_each_users_gateway_holds_only_their_own_key(host, laptop):
    for uid, own, others in ((ALICE, ALICE_KEY_1, (BOB_KEY, ALICE_TOKEN)), (BOB, BOB_KEY, (ALICE_KEY_1, ALICE_TOKEN))):
        held = gateway_file(host, laptop, uid)
        assert (held.user, held.mode) == ("www-data", 0o600)
        assert held.content_string == f'set $gw_kind "api-key";\nset $gw_secret "{own}";\n'
        assert not any(other in held.content_string for other in others)
        # Mounted into one container only: that user's gateway (not a sandbox, not the other gateway).
        users = sh(host, f"docker ps --all --filter volume={gateway(laptop, uid)} --format '{{{{.Names}}}}'").stdout.split()
        assert users == [gateway(laptop, uid)]
    keys = [gateway_file(host, laptop, uid, "sandbox-key.conf").content_string for uid in (ALICE, BOB)]
    assert keys[0] != keys[1]


def test_each_gateway_forwards_its_own_users_key(host, laptop, standin):
    # alice's login file is found implicitly: it does not displace the key her gateway holds.
    arrived, done = ask_through_gateway(host, "alice", standin)
    assert arrived == ALICE_KEY_1
    assert said(done, "gateway:") == [f"gateway: using the api-key {gateway(laptop, ALICE)} holds; the credentials-json "
                                      "from /home/alice/.claude/.credentials.json was not put in the sandbox (--fresh-creds does)."]
    arrived, done = ask_through_gateway(host, "bob", standin)
    assert arrived == BOB_KEY
    assert said(done, "gateway:") == [f"gateway: using the api-key {gateway(laptop, BOB)} holds."]


def test_inside_each_sandbox_only_its_placeholder(host, laptop):
    for user in ("alice", "bob"):
        assert sandbox(host, user, "start project").rc == 0
    try:
        placeholders = {}
        for user, uid in (("alice", ALICE), ("bob", BOB)):
            name = f"agent-sandbox-{uid}"
            status = json.loads(sandbox(host, user, "status --json").stdout)
            assert status["credential_mode"] == "gateway" and status["gateway"] == gateway(laptop, uid), status
            for secret in (ALICE_KEY_1, BOB_KEY):
                assert lab_tools.sandbox_paths_holding(host, name, secret) == [], (user, secret)
            placeholders[user] = sh(host, f"docker exec {name} agent-api-key").stdout.strip()
            # The search works: it finds the placeholder where the agent keeps it.
            assert any(p.endswith("/.api-key") for p in lab_tools.sandbox_paths_holding(host, name, placeholders[user]))
            mounts = json.loads(sh(host, f"docker inspect --format '{{{{json .Mounts}}}}' {name}").stdout)
            assert [m["Name"] for m in mounts if m["Type"] == "volume"] == [f"agent-sandbox-state-{uid}"]
        assert placeholders["alice"] != placeholders["bob"]
        assert all(p.startswith(PLACEHOLDER_PREFIX) for p in placeholders.values())
    finally:
        for user in ("alice", "bob"):
            sandbox(host, user, "stop")


def test_bobs_sandbox_reaches_alices_gateway_but_it_forwards_nothing_for_it(host, laptop, standin):
    # Every user's sandboxes share the internal network: bob's reaches alice's gateway's address
    # (straight, past the proxy). What stops him is the sandbox key her gateway checks.
    alice_url = json.loads(sandbox(host, "alice", "status --json").stdout)["gateway_url"]
    before = len(standin())
    ask = ("for key in \"$(agent-api-key)\" '' sk-ant-api03-sandbox-00000000000000000000000000000000; do "
           f"curl -sS --noproxy '*' --max-time 10 -w '%{{http_code}}\\n' -X POST {alice_url}/v1/messages"
           " -H \"x-api-key: $key\" -d '{}'; done")
    done = sandbox(host, "bob", f"run project -- bash -c {shlex.quote(ask)}")
    assert done.rc == 0, done.stderr
    refused = "credential gateway: this is not your sandbox's gateway (or its key changed: restart the sandbox)"
    assert done.stdout.splitlines() == [refused, "403"] * 3, done.stdout
    assert standin()[before:] == []
    audit = [json.loads(line) for line in sh(host, f"docker logs {gateway(laptop, ALICE)}").stdout.splitlines()
             if line.startswith("{")]
    assert [(a["decision"], a["status"]) for a in audit[-3:]] == [("wrong-sandbox-key", 403)] * 3


def test_fresh_creds_replaces_alices_gateway_key_and_leaves_bobs(host, laptop, standin):
    bob_before = gateway_file(host, laptop, BOB).content_string
    alice_sandbox_key = gateway_file(host, laptop, ALICE, "sandbox-key.conf").content_string
    arrived, done = ask_through_gateway(host, "alice", standin, "--fresh-creds", ANTHROPIC_API_KEY=ALICE_KEY_2)
    assert arrived == ALICE_KEY_2
    assert said(done, "gateway:") == [f"gateway: the api-key from $ANTHROPIC_API_KEY replaced the api-key in "
                                      f"{gateway(laptop, ALICE)}; the sandbox gets a placeholder."]
    held = gateway_file(host, laptop, ALICE).content_string
    assert ALICE_KEY_2 in held and ALICE_KEY_1 not in held
    # Her running sandboxes keep working: the sandbox key is not the credential.
    assert gateway_file(host, laptop, ALICE, "sandbox-key.conf").content_string == alice_sandbox_key
    assert gateway_file(host, laptop, BOB).content_string == bob_before
    arrived, _ = ask_through_gateway(host, "bob", standin)
    assert arrived == BOB_KEY


def test_fresh_creds_with_her_login_puts_it_in_the_sandbox(host):
    done = sandbox(host, "alice", "run --fresh-creds project -- sh -c 'jq -r .claudeAiOauth.accessToken ~/.claude/.credentials.json'")
    assert done.rc == 0, done.stderr
    assert done.stdout.strip() == ALICE_TOKEN
    assert ALICE_TOKEN not in done.stderr
    assert said(done, "credentials:") == ["credentials: using the credentials-json from /home/alice/.claude/.credentials.json; "
                                          "it replaced the api-key stored in the state volume."]


def test_stop_says_when_nothing_was_running(host):
    done = sandbox(host, "bob", "stop")
    assert done.rc == 0 and done.stdout.strip() == "agent-sandbox-1001 was not running"
    assert sandbox(host, "bob", "start project", ANTHROPIC_API_KEY=BOB_KEY).rc == 0
    # alice's stop does not touch bob's sandbox
    assert sandbox(host, "alice", "stop").stdout.strip() == "agent-sandbox-1000 was not running"
    done = sandbox(host, "bob", "stop")
    assert done.stdout.strip() == "stopped agent-sandbox-1001"
