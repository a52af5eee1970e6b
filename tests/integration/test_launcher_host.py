"""agent-sandbox against this machine's Docker: secrets stay out of inspect, environ and history;
the run policy is applied; doctor tells an isolated sandbox from a leaky one.

    pytest -m host tests/integration/test_launcher_host.py

Everything the tests talk to is theirs: two networks (an --internal one for the sandbox, an
egress one), a stand-in proxy with a fixed IP on both (Node, JSON log lines like the egress
proxy's) and two "outside" web servers reachable only on the egress network under the names
allowed.agtest and denied.agtest. No traffic leaves the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sandbox_host.roles.agent import context
from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.egress_proxy.deploy import run_args as egress_run_args
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.images import operations as image_ops
from sandbox_host.roles.launcher import agent_sandbox
from sandbox_host.roles.launcher.config import launcher_config

sys.path.insert(0, str(Path(__file__).parent))
from test_agent_image import build_agent_image, docker, docker_usable, image_settings  # noqa: E402

pytestmark = [pytest.mark.host, pytest.mark.skipif(not docker_usable(), reason="Docker is not available")]


@pytest.fixture(autouse=True, scope="module")
def local_docker_only(request):
    """These tests drive this machine's Docker, not a converged test host: a testinfra run
    against other hosts (molecule verify, --hosts) leaves them out."""
    if request.config.getoption("ansible_inventory", None) or request.config.getoption("hosts", None):
        pytest.skip("drives the local Docker; not part of a testinfra run against test hosts")

LAUNCHER = Path(agent_sandbox.__file__)
FAKE_KEY = "sk-ant-api03-FAKE-" + uuid.uuid4().hex
PROXY_JS = r"""
const http = require('http'), net = require('net');
const allowed = new Set(process.env.ALLOW.split(','));
const log = o => console.log(JSON.stringify({time: new Date().toISOString(), ...o}));
const server = http.createServer((req, res) => {
  const u = new URL(req.url);
  if (!allowed.has(u.hostname)) {
    log({decision: 'denied', method: req.method, host: u.hostname});
    res.writeHead(403, {'X-Squid-Error': 'ERR_ACCESS_DENIED 0'}); return res.end('denied');
  }
  log({decision: 'allowed', method: req.method, host: u.hostname});
  const up = http.request({host: u.hostname, port: u.port || 80, path: u.pathname, method: req.method},
    r => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  up.on('error', e => { res.writeHead(502); res.end(String(e)); });
  req.pipe(up);
});
server.on('connect', (req, sock) => {
  sock.on('error', () => {});  // clients (claude auth status) reset refused tunnels
  const [host, port] = req.url.split(':');
  if (!allowed.has(host)) { log({decision: 'denied', method: 'CONNECT', host}); return sock.end('HTTP/1.1 403 Forbidden\r\n\r\n'); }
  log({decision: 'allowed', method: 'CONNECT', host});
  const up = net.connect(port, host, () => { sock.write('HTTP/1.1 200 Connection established\r\n\r\n'); up.pipe(sock); sock.pipe(up); });
  up.on('error', () => sock.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
});
server.on('clientError', (e, sock) => sock.destroy());
server.listen(3128, '0.0.0.0');
"""
WEB_JS = "require('http').createServer((q, r) => r.end('outside ' + process.env.NAME)).listen(8080)"


def free_subnets(count: int) -> list[str]:
    """/24s in 10.231.0.0/16 that no Docker network or host route uses."""
    used = []
    for net_id in docker("network", "ls", "--quiet").split():
        for cfg in json.loads(docker("network", "inspect", "--format", "{{json .IPAM.Config}}", net_id)) or []:
            if cfg.get("Subnet"):
                used.append(ipaddress.ip_network(cfg["Subnet"]))
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout.split("\n")
    for line in routes:
        first = line.split(" ", 1)[0]
        if "/" in first:
            used.append(ipaddress.ip_network(first, strict=False))
    found = []
    for third in range(10, 250):
        candidate = ipaddress.ip_network(f"10.231.{third}.0/24")
        if not any(candidate.overlaps(u) for u in used if u.version == 4):
            found.append(str(candidate))
            if len(found) == count:
                return found
    pytest.skip("no free /24 in 10.231.0.0/16 for the test networks")


@pytest.fixture(scope="module")
def image():
    return build_agent_image()


def squid_image(internal_subnet: str) -> str:
    """The egress proxy role's Squid image, built from its own context with the test's names."""
    from sandbox_host.roles.egress_proxy import squid
    from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
    from sandbox_host.roles.images import deploy as images

    # The test's "outside" servers live in private address space, which the role refuses by default.
    proxy = EgressProxySettings(allowed_domains=["allowed.agtest"], allowed_http_ports=[8080],
                                deny_private_destinations=False)
    files = squid.build_context(proxy, port=3128, client_subnet=internal_subnet)
    dockerfile = images.render_dockerfile(squid.TEMPLATES / "Dockerfile.j2", image_settings(),
                                          **squid.dockerfile_variables(proxy, 3128))
    files = {"Dockerfile": dockerfile.encode(), **{k: v.encode() for k, v in files.items()},
             **image_ops.extra_ca_context(image_settings().extra_ca_certificates)}
    tar = context.context_tar(files)
    tag = f"sandbox-agent-test-squid:{hashlib.sha256(tar).hexdigest()[:16]}"
    if not docker("image", "ls", "--quiet", tag):
        docker("build", "--force-rm", "--tag", tag, "-", input=tar, timeout=1200)
    return tag


@contextlib.contextmanager
def make_world(image, tmp_path_factory, proxy_kind):
    """Networks, a proxy (stand-in or the role's Squid), outside servers, a launcher config."""
    run = uuid.uuid4().hex[:8]
    internal, egress = f"agtest-int-{run}", f"agtest-egr-{run}"
    int_subnet, egr_subnet = free_subnets(2)
    proxy_ip = str(ipaddress.ip_network(int_subnet).network_address + 2)
    containers = []
    try:
        docker("network", "create", "--internal", "--subnet", int_subnet, internal)
        docker("network", "create", "--subnet", egr_subnet, egress)
        for name in ("allowed", "denied"):
            cname = f"agtest-{name}-{run}"
            docker("run", "--detach", "--name", cname, "--network", egress, "--network-alias", f"{name}.agtest",
                   "--env", f"NAME={name}", "--entrypoint", "node", image, "-e", WEB_JS)
            containers.append(cname)
        proxy = f"agtest-proxy-{run}"
        if proxy_kind == "squid":
            docker("create", "--name", proxy, "--network", internal, "--ip", proxy_ip, *egress_run_args(
                EgressProxySettings(container_name=proxy)), squid_image(int_subnet))
        else:
            docker("create", "--name", proxy, "--network", internal, "--ip", proxy_ip, "--env", "ALLOW=allowed.agtest",
                   "--entrypoint", "node", image, "-e", PROXY_JS)
        containers.append(proxy)
        docker("network", "connect", egress, proxy)
        docker("start", proxy)
        allowed_ip = docker("inspect", "--format",
                            f"{{{{(index .NetworkSettings.Networks \"{egress}\").IPAddress}}}}", containers[0])
        doctor = {"allowed_url": "http://allowed.agtest:8080/", "denied_url": "http://denied.agtest:8080/",
                  # by IP: the direct check must meet the network, not just a failed lookup
                  "direct_url": f"http://{allowed_ip}:8080/", "dns_name": "allowed.agtest", "timeout": 5}
        settings = HostConfig.model_validate({
            "sandbox_network": {"internal_network": internal, "internal_subnet": int_subnet,
                                "egress_subnet": egr_subnet, "proxy_ip": proxy_ip},
            # runc: these tests are about the launcher's mechanics on whatever Docker runs them (a host
            # with runsc registered included); the gvisor scenario covers the sandbox under runsc.
            "agent": {"state_volume": f"agtest-state-{run}", "memory": "1g", "cpus": 1, "pids_limit": 256,
                      "use_gvisor": False,
                      # the sandbox's DNS is the proxy's IP (no DNS server there): queries never leave
                      "dns_servers": [proxy_ip]},
            # The in-sandbox credential path: the gateway path is proven on test hosts
            # (tests/host/test_credential_gateway.py), where the deploy builds its image.
            "credential_gateway": {"enabled": False},
            "launcher": {"container_name": f"agtest-sandbox-{run}", "proxy_container": proxy,
                         "credentials_file": None, "gitconfig": str(tmp_path_factory.mktemp("git") / "gitconfig"),
                         "doctor": doctor},
        })
        cfg = launcher_config(settings.launcher_sections(), 1000, 1000)
        cfg["image"] = image
        cfg["build_context"] = str(tmp_path_factory.mktemp("ctx") / "context.tar")
        cfg_file = tmp_path_factory.mktemp("cfg") / "config.json"
        cfg_file.write_text(json.dumps(cfg))
        Path(cfg["gitconfig"]).write_text("[user]\n\tname = Test User\n\temail = test@example.invalid\n")
        wait_for_proxy(proxy, proxy_ip)
        yield {"cfg": cfg, "config": str(cfg_file), "proxy": proxy, "allowed_ip": allowed_ip, "run": run,
               "egress": egress, "volume": cfg["state_volume"], "name": cfg["container_name"]}
    finally:
        for name in containers + [f"agtest-sandbox-{run}"]:
            docker("rm", "--force", name, check=False)
        for name in (internal, egress):
            docker("network", "rm", name, check=False)
        docker("volume", "rm", "--force", f"agtest-state-{run}", check=False)


def wait_for_proxy(proxy: str, ip: str) -> None:
    for _ in range(100):
        if docker("inspect", "--format", "{{.State.Running}}", proxy) != "true":
            raise AssertionError(f"proxy {proxy} stopped: {docker('logs', proxy, check=False)}")
        probe = subprocess.run(["docker", "exec", proxy, "bash", "-c", f"</dev/tcp/{ip}/3128"], capture_output=True)
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"proxy {proxy} does not listen on {ip}:3128")


@pytest.fixture(scope="module")
def world(image, tmp_path_factory):
    with make_world(image, tmp_path_factory, "standin") as built:
        yield built


@pytest.fixture(scope="module")
def squid_world(image, tmp_path_factory):
    with make_world(image, tmp_path_factory, "squid") as built:
        yield built


def launcher(world, *args, env=None, input=None, check=True):
    environ = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path(world["config"]).parent)}
    environ.update(env or {})
    done = subprocess.run([sys.executable, str(LAUNCHER), "--config", world["config"], *args],
                          capture_output=True, text=True, env=environ, input=input, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"agent-sandbox {' '.join(args)} exit {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture
def workspace(tmp_path):
    tmp_path.chmod(0o777)  # the agent's UID (1000) writes here; the tests run as root
    return tmp_path


@pytest.fixture
def started(world, workspace):
    launcher(world, "start", str(workspace), "--fresh-creds", env={"ANTHROPIC_API_KEY": FAKE_KEY})
    yield world
    launcher(world, "stop", check=False)


def test_run_executes_a_command_in_the_workspace(world, workspace):
    (workspace / "hello.txt").write_text("from the host\n")
    done = launcher(world, "run", str(workspace), "--", "bash", "-c", "pwd; cat hello.txt; id -u; touch made-inside",
                    env={"ANTHROPIC_API_KEY": FAKE_KEY})
    assert done.stdout.splitlines() == ["/workspace", "from the host", "1000"]
    assert (workspace / "made-inside").exists()
    # `run` leaves nothing behind.
    assert not docker("ps", "--all", "--quiet", "--filter", f"name=agtest-sandbox-{world['run']}-run-")


def test_secret_is_nowhere_but_the_0600_file(started):
    name = started["name"]
    inspect = docker("inspect", name)
    assert FAKE_KEY not in inspect
    # The agent itself running (interactive, at its folder-trust prompt) with its key loaded, while
    # the environments of every process are read: claude and whatever it started. The positive
    # signal that it has the key: its apiKeyHelper ran (wrapped here to leave a mark; the key still
    # comes from the 0600 file through agent-api-key). It takes seconds on a loaded machine.
    settings_json = "~/.claude/settings.json"
    docker("exec", name, "bash", "-c", f"cp {settings_json} {settings_json}.orig && jq "
           f"'.apiKeyHelper = \"touch ~/.claude/.helper-ran && \" + .apiKeyHelper' {settings_json}.orig > {settings_json}")
    try:
        docker("exec", "--detach", name, "bash", "-c", "timeout 120 script -qc claude /dev/null >/dev/null 2>&1")
        signal = docker("exec", name, "bash", "-c", "for i in $(seq 600); do test -e ~/.claude/.helper-ran && "
                                                    "grep -qx claude /proc/[0-9]*/comm 2>/dev/null && { echo loaded; exit; }; "
                                                    "sleep 0.1; done; echo never")
        assert signal == "loaded", "within 60 s claude did not ask its apiKeyHelper for the key (or had exited)"
        # grep takes the key from the file, so this check's own command line does not hold it.
        script = ("for f in /proc/[0-9]*/environ; do cat $f 2>/dev/null; echo; done | tr '\\0' '\\n' | "
                  "grep -c -F -f ~/.claude/.api-key || true; for f in /proc/[0-9]*/cmdline; do cat $f 2>/dev/null; echo; done | "
                  "grep -c -F -f ~/.claude/.api-key || true; stat -c '%a %U' ~/.claude/.api-key; cat ~/.claude/.api-key; echo; "
                  "grep -lx claude /proc/[0-9]*/comm 2>/dev/null | wc -l")
        out = docker("exec", name, "bash", "-c", script).splitlines()
    finally:
        docker("exec", name, "bash", "-c", f"mv {settings_json}.orig {settings_json}; rm -f ~/.claude/.helper-ran", check=False)
    assert out[:4] == ["0", "0", "600 agent", FAKE_KEY]
    assert int(out[4]) >= 1, "claude had exited before its environment was read"
    for layer in docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", started["cfg"]["image"]).splitlines():
        assert FAKE_KEY not in layer
    # Claude Code itself sees the key through its apiKeyHelper (offline: `auth status` makes no request).
    status = json.loads(docker("exec", name, "claude", "auth", "status"))
    assert status["authMethod"] == "api_key_helper" and status["loggedIn"] is True


def test_process_environments_are_really_read(started):
    # Guard for the check above: a value that is in the container's environment is found.
    out = docker("exec", started["name"], "bash", "-c",
                 "for f in /proc/[0-9]*/environ; do cat $f 2>/dev/null; echo; done | tr '\\0' '\\n' | grep -c HTTPS_PROXY=")
    assert int(out) >= 1


def test_run_policy_is_applied(started):
    host = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", started["name"]))
    assert host["CapDrop"] == ["ALL"] or host["CapDrop"] == ["all"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["ReadonlyRootfs"] is True
    assert host["PidsLimit"] == 256 and host["Memory"] == 1 << 30 and host["NanoCpus"] == 10**9
    assert host["Sysctls"]["net.ipv6.conf.all.disable_ipv6"] == "1"
    assert not any("docker.sock" in b for b in host.get("Binds") or [])
    networks = json.loads(docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", started["name"]))
    assert list(networks) == [started["cfg"]["network"]]
    out = docker("exec", started["name"], "bash", "-c",
                 "touch /usr/x 2>&1 | grep -c Read-only; cat /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                 "echo $HTTPS_PROXY; git config --global user.name; git config --global --get-all safe.directory; "
                 "grep CapEff /proc/self/status")
    lines = out.splitlines()
    assert lines[:5] == ["1", "1", agent_sandbox.proxy_url(started["cfg"]), "Test User", "/workspace"]
    assert lines[5].split() == ["CapEff:", "0000000000000000"]


def test_state_volume_keeps_credentials_and_fresh_creds_replaces_them(started, workspace):
    launcher(started, "stop")
    # No host credentials this time: the ones in the volume are used.
    done = launcher(started, "start", str(workspace))
    assert "using the api-key credentials in the state volume" in done.stdout + done.stderr
    launcher(started, "stop")
    other = "sk-ant-oat01-FAKE-" + uuid.uuid4().hex
    launcher(started, "start", str(workspace), "--fresh-creds", env={"CLAUDE_CODE_OAUTH_TOKEN": other})
    out = docker("exec", started["name"], "bash", "-c",
                 "stat -c %a ~/.claude/.credentials.json; jq -r .claudeAiOauth.accessToken ~/.claude/.credentials.json; "
                 "test -e ~/.claude/.api-key && echo stale-api-key; jq -r '.apiKeyHelper // \"none\"' ~/.claude/settings.json")
    assert out.splitlines() == ["600", other, "none"]
    assert other not in docker("inspect", started["name"])
    assert json.loads(docker("exec", started["name"], "claude", "auth", "status"))["authMethod"] == "claude.ai"


def test_no_credentials_anywhere_is_a_clear_error(world, workspace):
    fresh = dict(world)
    cfg = dict(world["cfg"], state_volume=f"agtest-empty-{world['run']}")
    path = Path(world["config"]).with_name("empty-volume.json")
    path.write_text(json.dumps(cfg))
    fresh["config"] = str(path)
    try:
        done = launcher(fresh, "run", str(workspace), "--", "true", check=False)
        assert done.returncode == 2
        assert "no credentials: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN" in done.stderr
    finally:
        docker("volume", "rm", "--force", cfg["state_volume"], check=False)


def test_missing_image_is_a_clear_error(world, workspace, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(world["cfg"], image="sandbox-agent-test:does-not-exist")))
    done = launcher(dict(world, config=str(path)), "run", str(workspace), "--", "true",
                    env={"ANTHROPIC_API_KEY": FAKE_KEY}, check=False)
    assert done.returncode == 2 and "the agent image sandbox-agent-test:does-not-exist is missing" in done.stderr


def test_docker_down_is_a_clear_error(world, workspace):
    done = launcher(world, "status", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, check=False)
    assert done.returncode == 2 and "Docker is not running or not reachable" in done.stderr


def test_doctor_passes_in_an_isolated_sandbox(started):
    done = launcher(started, "doctor", "--json", check=False)
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    for check in ("ipv6_disabled", "proxy_reachable", "allowed_via_proxy", "denied_refused", "direct_blocked",
                  "dns_contained", "non_root", "no_docker_socket"):
        assert findings[check]["result"] == "pass", findings[check]
    assert findings["gvisor"]["result"] in ("pass", "warn")
    assert done.returncode == (0 if all(f["result"] != "fail" for f in findings.values()) else 1)


def test_doctor_fails_when_the_denied_host_gets_through(started):
    # Point "denied" at a host the proxy allows: the check must fail and the exit code say so.
    done = launcher(started, "doctor", "--json", "--denied-url", "http://allowed.agtest:8080/", check=False)
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    assert findings["denied_refused"]["result"] == "fail"
    assert done.returncode == 1


def test_doctor_fails_when_egress_bypasses_the_proxy(started):
    # A sandbox container also attached to the egress network reaches the outside directly.
    docker("network", "connect", started["egress"], started["name"])
    done = launcher(started, "doctor", "--json", check=False)
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    assert findings["direct_blocked"]["result"] == "fail"


def test_logs_filters_the_proxy_decisions(started):
    launcher(started, "doctor", check=False)  # one allowed and one denied request through the proxy
    denied = [json.loads(line) for line in launcher(started, "logs", "--decision", "denied", "--json").stdout.splitlines()]
    allowed = [json.loads(line) for line in launcher(started, "logs", "--decision", "allowed", "--json").stdout.splitlines()]
    assert denied and all(r["decision"] == "denied" for r in denied)
    assert allowed and all(r["decision"] == "allowed" for r in allowed)
    assert {r["host"] for r in denied} >= {"denied.agtest"}


@pytest.fixture
def squid_started(squid_world, workspace):
    launcher(squid_world, "start", str(workspace), "--fresh-creds", env={"ANTHROPIC_API_KEY": FAKE_KEY})
    yield squid_world
    launcher(squid_world, "stop", check=False)


def test_doctor_and_logs_with_the_egress_proxy_roles_squid(squid_started):
    # The same checks against the real proxy: its refusals (X-Squid-Error, TCP_DENIED) are
    # recognised and its JSON access log is filtered by decision.
    done = launcher(squid_started, "doctor", "--json", check=False)
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    for check in ("proxy_reachable", "allowed_via_proxy", "denied_refused", "direct_blocked", "dns_contained"):
        assert findings[check]["result"] == "pass", findings[check]
    denied = [json.loads(line) for line in launcher(squid_started, "logs", "--decision", "denied", "--json").stdout.splitlines()]
    allowed = [json.loads(line) for line in launcher(squid_started, "logs", "--decision", "allowed", "--json").stdout.splitlines()]
    assert [r["host"] for r in denied] == ["denied.agtest"] and denied[0]["decision"] == "TCP_DENIED", denied
    assert [r["host"] for r in allowed] == ["allowed.agtest"], allowed


def test_status_reports_the_running_sandbox(started):
    info = json.loads(launcher(started, "status", "--json").stdout)
    assert info["running"] is True and info["credentials"] == "api-key" and info["image_current"] is True
    assert info["proxy_running"] is True


def test_update_rebuilds_the_image_under_its_content_tag(world, tmp_path):
    # As the deploy leaves it: <repo>:c-<hash> and :latest on one image with the hash label.
    # `update` rebuilds without cache and moves both tags, so the next deploy finds its tag current.
    tar = context.context_tar(context.full_context(AgentSettings(), image_settings(), 1000, 1000))
    digest = hashlib.sha256(tar).hexdigest()
    repo = f"agtest-update-{world['run']}"
    docker("build", "--force-rm", "--label", f"org.sandbox-host.content-hash={digest}", "--tag", f"{repo}:latest",
           "--tag", f"{repo}:c-{digest[:16]}", "-", input=tar, timeout=1200)
    before = docker("image", "inspect", "--format", "{{.Id}}", f"{repo}:latest")
    (tmp_path / "context.tar").write_bytes(tar)
    cfg_file = tmp_path / "config.json"
    cfg_file.write_text(json.dumps(dict(world["cfg"], image=f"{repo}:latest", build_context=str(tmp_path / "context.tar"))))
    try:
        launcher(dict(world, config=str(cfg_file)), "update")
        after = {tag: docker("image", "inspect", "--format", "{{.Id}}", f"{repo}:{tag}") for tag in ("latest", f"c-{digest[:16]}")}
        assert len(set(after.values())) == 1 and before not in after.values()
        label = docker("image", "inspect", "--format", '{{index .Config.Labels "org.sandbox-host.content-hash"}}', f"{repo}:latest")
        assert label == digest
    finally:
        docker("rmi", "--force", f"{repo}:latest", f"{repo}:c-{digest[:16]}", check=False)
