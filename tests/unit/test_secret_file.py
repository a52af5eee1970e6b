"""Files holding proxy credentials: compared by hash (never read back), written through a 0600
staging file, and never shown by pyinfra, --diff included (files.put prints a text diff there)."""

import hashlib

from pyinfra.facts.files import File, Sha256File

from sandbox_host.roles.common.secret_file import secret_file

from fakehost import run_operation

DEST = "/etc/systemd/system/docker.service.d/http-proxy.conf"
STAGED = "/etc/systemd/system/docker.service.d/.http-proxy.conf.sandbox-host-new"
TEXT = "[Service]\nEnvironment=\"HTTP_PROXY=http://u:s3cret@proxy:3128\"\n"
PRESENT = {"mode": 644, "user": "root", "group": "root"}


def facts(present, sha=None):
    return {(File, DEST): present, (Sha256File, DEST): sha}


def test_same_content_owner_and_mode_is_nothing_to_do():
    sha = hashlib.sha256(TEXT.encode()).hexdigest()
    commands, noops = run_operation(secret_file, facts(PRESENT, sha), dest=DEST, content=TEXT, mode="644")
    assert commands == [] and noops == [f"{DEST} is up to date (content not shown)"]


def test_new_content_goes_through_a_0600_staging_file():
    commands, noops = run_operation(secret_file, facts(PRESENT, "0" * 64), dest=DEST, content=TEXT, mode="644")
    assert commands == [
        f"install -m 600 /dev/null {STAGED}",
        ("upload", TEXT.encode(), STAGED),
        f"chown root:root {STAGED} && chmod 644 {STAGED} && mv -f {STAGED} {DEST}",
    ]
    assert noops == []
    # The secret is only ever in the upload, never in a command line pyinfra could print.
    assert not any("s3cret" in c for c in commands if isinstance(c, str))


def test_a_missing_file_or_a_wrong_mode_is_rewritten():
    sha = hashlib.sha256(TEXT.encode()).hexdigest()
    for present in (None, {**PRESENT, "mode": 666}, {**PRESENT, "user": "nobody"}):
        commands, _ = run_operation(secret_file, facts(present, sha), dest=DEST, content=TEXT, mode="644")
        assert commands[-1].endswith(f"mv -f {STAGED} {DEST}"), present
