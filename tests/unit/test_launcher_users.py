"""agent-sandbox for several people on one host, and where their credentials come from: per-user
container and state volume, the UID the sandbox runs as, the state volume made theirs, which
credentials win and the one sentence that says so, `stop` when nothing runs, the macOS keychain."""

from __future__ import annotations

import json
import subprocess

import pytest

from sandbox_host.roles.launcher import agent_sandbox as sandbox
from test_launcher import SECRET, FakeDocker, cfg, pairs, write_creds


@pytest.fixture
def as_user(monkeypatch):
    """Run the launcher's logic as host user uid:gid."""
    def become(uid, gid):
        monkeypatch.setattr(sandbox, "host_ids", lambda: (uid, gid))
    return become


# --- whose sandbox -----------------------------------------------------------------------------


def test_each_user_has_their_own_container_and_volume(as_user):
    as_user(1000, 1000)
    assert sandbox.user_names(cfg()) == ("agent-sandbox-1000", "agent-sandbox-state-1000")
    as_user(1001, 1001)
    assert sandbox.user_names(cfg()) == ("agent-sandbox-1001", "agent-sandbox-state-1001")
    as_user(0, 0)  # root keeps the configured names: servers and CI runners as before
    assert sandbox.user_names(cfg()) == ("agent-sandbox", "agent-sandbox-state")


@pytest.mark.parametrize(
    "host,image,expected",
    [
        ((1000, 1000), (1000, 1000), (1000, 1000, False)),
        ((1001, 1001), (1000, 1000), (1001, 1001, True)),   # a second user on the laptop
        ((501, 20), (501, 20), (501, 20, False)),           # macOS, image built for the user
        ((0, 0), (1000, 1000), (1000, 1000, False)),        # root: the image's user, never root
        ((0, 0), None, (1000, 1000, False)),                # image without numeric USER: the config's
    ],
)
def test_the_sandbox_runs_as_the_invoking_user(as_user, host, image, expected):
    as_user(*host)
    assert sandbox.run_ids(cfg(), image) == expected


def test_a_foreign_uid_gets_its_own_account_entry(tmp_path):
    folder = sandbox.account_files(cfg(), 1001, 1002, {"HOME": str(tmp_path)})
    assert folder == tmp_path / ".cache" / "agent-sandbox" / "account-1001-1002"
    assert (folder / "passwd").read_text() == ("root:x:0:0:root:/root:/bin/bash\n"
                                               "agent:x:1001:1002::/home/agent:/bin/bash\n")
    assert (folder / "group").read_text() == "root:x:0:\nagent:x:1002:\n"
    args = sandbox.run_args(cfg(), "n", tmp_path, None, None, (1001, 1002), "v-1001", folder)
    assert ("--mount", f"type=bind,source={folder / 'passwd'},target=/etc/passwd,readonly") in pairs(args)
    assert ("--mount", f"type=bind,source={folder / 'group'},target=/etc/group,readonly") in pairs(args)
    assert ("--user", "1001:1002") in pairs(args)
    assert ("--mount", "type=volume,source=v-1001,target=/home/agent/.claude,volume-nocopy") in pairs(args)


def test_a_new_state_volume_is_made_the_users_own():
    docker = FakeDocker({"volume inspect": (1, "", "no such volume")})
    assert sandbox.ensure_state_volume(docker, cfg(), "agent-sandbox-state-1001", (1001, 1002)) is True
    assert [args for args, _ in docker.calls] == [
        ["volume", "inspect", "agent-sandbox-state-1001"],
        ["volume", "create", "--label", "org.sandbox-host.owner-uid=" + str(sandbox.host_ids()[0]),
         "agent-sandbox-state-1001"],
        ["run", "--rm", "--network", "none", "--user", "0:0", "--cap-drop", "ALL", "--cap-add", "CHOWN",
         "--cap-add", "FOWNER", "--security-opt", "no-new-privileges", "--entrypoint", "install",
         "--mount", "type=volume,source=agent-sandbox-state-1001,target=/state,volume-nocopy",
         "sandbox-agent:latest", "-d", "-o", "1001", "-g", "1002", "-m", "0700", "/state"],
    ]


def test_an_existing_state_volume_is_left_alone():
    docker = FakeDocker({"volume inspect": (0, "[{}]", "")})
    assert sandbox.ensure_state_volume(docker, cfg(), "v", (1001, 1001)) is False
    assert len(docker.calls) == 1


def test_a_failed_volume_preparation_removes_the_volume():
    docker = FakeDocker({"volume inspect": (1, "", ""), "run": (1, "", "boom")})
    with pytest.raises(sandbox.LauncherError, match="preparing the state volume v failed: boom"):
        sandbox.ensure_state_volume(docker, cfg(), "v", (1001, 1001))
    assert docker.calls[-1][0] == ["volume", "rm", "v"]


def test_start_uses_the_users_volume_uid_and_account(as_user, tmp_path, monkeypatch):
    as_user(1001, 1001)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    docker = FakeDocker({"info": (0, "{}", ""), "image inspect --format {{.Config.User}}": (0, "1000:1000", ""),
                         "volume inspect": (1, "", ""), "exec --interactive": (0, "installed api-key", "")})
    said = []
    creds = sandbox.Credentials("api-key", SECRET.encode(), "$ANTHROPIC_API_KEY", True)
    sandbox.start_sandbox(docker, cfg(runtime=None), "agent-sandbox-1001", tmp_path, creds, False, said.append)
    run = next(args for args, _ in docker.calls if args[:2] == ["run", "--detach"])
    flags = pairs(run)
    assert ("--user", "1001:1001") in flags
    assert ("--label", "org.sandbox-host.owner-uid=1001") in flags
    assert ("--mount", "type=volume,source=agent-sandbox-state-1001,target=/home/agent/.claude,volume-nocopy") in flags
    assert ("--tmpfs", "/home/agent:rw,nosuid,nodev,size=1g,uid=1001,gid=1001,mode=0700") in flags
    assert any("target=/etc/passwd" in arg for arg in run)
    assert said == ["credentials: using the api-key from $ANTHROPIC_API_KEY, stored in the state volume (it had none)."]
    assert SECRET not in docker.argv_text()


# --- credentials: which source wins, and the sentence that says so ------------------------------


def test_explicit_sources_replace_what_the_volume_holds(tmp_path):
    file = tmp_path / "c.json"
    write_creds(file)
    env = {"ANTHROPIC_API_KEY": "k", "CLAUDE_CODE_OAUTH_TOKEN": "t", "HOME": str(tmp_path)}
    assert sandbox.find_credentials(cfg(), str(file), env).explicit
    assert sandbox.find_credentials(cfg(), None, env).explicit
    assert sandbox.find_credentials(cfg(), None, {"CLAUDE_CODE_OAUTH_TOKEN": "t"}).explicit
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    write_creds(home / ".claude" / ".credentials.json")
    assert not sandbox.find_credentials(cfg(), None, {"HOME": str(home)}).explicit
    assert not sandbox.find_credentials(cfg(credentials_file=str(file)), None, {}).explicit


@pytest.mark.parametrize(
    "explicit,fresh,forced", [(True, False, True), (False, False, False), (False, True, True)],
    ids=["explicit", "implicit", "implicit --fresh-creds"],
)
def test_explicit_or_fresh_forces_the_install(explicit, fresh, forced):
    docker = FakeDocker({"exec --interactive": (0, "replaced api-key credentials-json", "")})
    creds = sandbox.Credentials("api-key", b"k", "$ANTHROPIC_API_KEY", explicit)
    sandbox.install_credentials(docker, "sbx", creds, fresh)
    assert (docker.calls[0][0][-1] == "--force") is forced


ROTATED = sandbox.Credentials("api-key", b"k", "$ANTHROPIC_API_KEY", True)
FILE = sandbox.Credentials("credentials-json", b"{}", "/home/a/.claude/.credentials.json")


@pytest.mark.parametrize(
    "creds,answer,sentence",
    [
        (ROTATED, "installed api-key",
         "credentials: using the api-key from $ANTHROPIC_API_KEY, stored in the state volume (it had none)."),
        (ROTATED, "replaced api-key api-key",
         "credentials: using the api-key from $ANTHROPIC_API_KEY; it replaced the api-key stored in the state volume."),
        (ROTATED, "unchanged api-key",
         "credentials: using the api-key from $ANTHROPIC_API_KEY, the same as stored in the state volume."),
        (FILE, "kept credentials-json",
         "credentials: using the credentials-json stored in the state volume; /home/a/.claude/.credentials.json "
         "was not copied over it (--fresh-creds replaces it)."),
    ],
)
def test_one_sentence_says_which_source_and_whether_it_replaced(creds, answer, sentence):
    assert sandbox.credentials_sentence(creds, answer.split()) == sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")


def test_volume_credentials_when_the_host_has_none():
    docker = FakeDocker({"exec sbx agent-credentials status": (0, "credentials-json\n", "")})
    assert sandbox.install_credentials(docker, "sbx", None, False) == (
        "credentials: using the credentials-json credentials in the state volume (none set on the host).")


# --- macOS keychain ------------------------------------------------------------------------------

KEYCHAIN_JSON = json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-KEYCHAIN", "refreshToken": "r"}})


def fake_security(code=0, out=KEYCHAIN_JSON, seen=None):
    def security(args):
        if seen is not None:
            seen.append(args)
        return subprocess.CompletedProcess(["security", *args], code, (out + "\n").encode(), b"")
    return security


def test_macos_reads_the_keychain_entry(tmp_path):
    seen = []
    creds = sandbox.find_credentials(cfg(), None, {"HOME": str(tmp_path)}, platform="darwin",
                                     keychain=fake_security(seen=seen))
    assert seen == [["find-generic-password", "-s", "Claude Code-credentials", "-w"]]
    assert creds == sandbox.Credentials("credentials-json", KEYCHAIN_JSON.encode(),
                                        "the macOS keychain (Claude Code-credentials)", False)


def test_macos_keychain_comes_after_explicit_sources_and_linux_never_asks(tmp_path):
    seen = []
    env = {"HOME": str(tmp_path), "ANTHROPIC_API_KEY": "k"}
    assert sandbox.find_credentials(cfg(), None, env, platform="darwin", keychain=fake_security(seen=seen)).kind == "api-key"
    assert sandbox.find_credentials(cfg(), None, {"HOME": str(tmp_path)}, platform="linux",
                                    keychain=fake_security(seen=seen)) is None
    assert seen == []


def test_macos_without_a_keychain_entry_has_no_credentials(tmp_path):
    assert sandbox.find_credentials(cfg(), None, {"HOME": str(tmp_path)}, platform="darwin",
                                    keychain=fake_security(code=44, out="")) is None

    def missing(args):
        raise FileNotFoundError("security")
    assert sandbox.keychain_credentials(missing) is None


def test_macos_keychain_entry_that_is_not_credentials_is_refused(tmp_path):
    with pytest.raises(sandbox.LauncherError, match="not Claude Code credentials") as caught:
        sandbox.find_credentials(cfg(), None, {"HOME": str(tmp_path)}, platform="darwin",
                                 keychain=fake_security(out="sk-ant-not-json"))
    assert "sk-ant-not-json" not in str(caught.value)


# --- stop --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state,said,removed",
    [
        ("", "agent-sandbox-1000 was not running", False),
        ("running", "stopped agent-sandbox-1000", True),
        ("exited", "agent-sandbox-1000 was not running (removed the exited container)", True),
    ],
)
def test_stop_checks_before_removing(as_user, capsys, state, said, removed):
    as_user(1000, 1000)
    docker = FakeDocker({"container inspect": (0 if state else 1, state, "" if state else "No such container")})
    assert sandbox.cmd_stop(None, cfg(), docker) == 0
    assert capsys.readouterr().out.strip() == said
    assert (["rm", "--force", "agent-sandbox-1000"] in [a for a, _ in docker.calls]) is removed
