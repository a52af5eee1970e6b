"""A verification that must fail: the harness test asserts `molecule verify` reports it."""


def test_file_the_deploy_never_creates(host):
    assert host.file("/etc/sandbox-host-harness-never-created").exists
