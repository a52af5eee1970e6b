"""dockerd's proxy environment: the drop-in is live in systemd, or absent when unset."""

from sandbox_host.roles.docker_proxy.deploy import environment


def test_dropin_matches_settings(host, settings):
    env = environment(settings.docker_proxy)
    dropin = host.file(settings.docker_proxy.dropin_path)
    if not env:
        assert not dropin.exists
        return
    assert dropin.mode == 0o644
    for key, value in env.items():
        assert f'Environment="{key}={value}"' in dropin.content_string


def test_running_dockerd_has_the_proxy(host, settings):
    env = environment(settings.docker_proxy)
    shown = host.check_output("systemctl show docker --property Environment")
    for key, value in env.items():
        assert f"{key}={value}" in shown
    if not env:
        assert "HTTP_PROXY" not in shown and "HTTPS_PROXY" not in shown
    pid = host.check_output("systemctl show docker --property MainPID --value")
    environ = host.check_output(f"tr '\\0' '\\n' < /proc/{pid}/environ")
    for key, value in env.items():
        assert f"{key}={value}" in environ.splitlines()
