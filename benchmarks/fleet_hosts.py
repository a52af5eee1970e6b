"""Test hosts for benchmarks/fleet.py: systemd containers (sandbox-host-testhost:bookworm-docker,
the fleet scenario's image) on a network the benchmark creates, each with its own address,
reached over SSH with the checkout's test key (.cache/testhost/id_ed25519).

Started with the flags of molecule/shared/create.yml. Everything carries the prefix
``$SANDBOX_HOST_TEST_PREFIX-bench`` (containers, their /var/lib/docker volumes, the network), so
``destroy`` removes exactly what ``create`` made.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import os
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = "sandbox-host-testhost:bookworm-docker"
KEY = REPO / ".cache" / "testhost" / "id_ed25519"
# Not 172.30.0.0/16: the sandbox networks use it inside each host.
DEFAULT_SUBNET = "10.231.0.0/24"


def prefix() -> str:
    return f"{os.environ.get('SANDBOX_HOST_TEST_PREFIX', 'sbx')}-bench"


def docker(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        raise SystemExit(f"docker {' '.join(args[:3])} ...: {done.stderr.strip()}")
    return done


def names(count: int) -> list[str]:
    return [f"{prefix()}{i:02d}" for i in range(1, count + 1)]


def addresses(count: int, subnet: str) -> list[str]:
    hosts = ipaddress.ip_network(subnet).hosts()
    next(hosts)  # the bridge's gateway
    return [str(next(hosts)) for _ in range(count)]


def wait_ssh(address: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 22), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"sshd on {address} did not answer in {timeout:.0f} s")


def wait_dockerd(name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if docker("exec", name, "docker", "version", "--format", "{{.Server.Version}}", check=False).returncode == 0:
            return
        time.sleep(1)
    raise SystemExit(f"dockerd in {name} did not answer in {timeout:.0f} s")


def create(count: int, subnet: str, preload: Path | None) -> list[tuple[str, str]]:
    """Start COUNT hosts (replacing earlier ones of the same name); with PRELOAD (a `docker save`
    tarball), load it into each host's dockerd. Returns (name, address) pairs."""
    network = prefix()
    if docker("network", "inspect", network, check=False).returncode != 0:
        docker("network", "create", "--subnet", subnet, network)
    started = []
    for name, address in zip(names(count), addresses(count, subnet)):
        docker("rm", "-f", name, check=False)
        docker("volume", "rm", f"{name}-docker", check=False)
        docker(
            "run", "-d", "--name", name, "--hostname", name,
            "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
            "--security-opt", "no-new-privileges=false", "--cgroupns", "host",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", f"{name}-docker:/var/lib/docker",
            "-v", f"{KEY}.pub:/root/.ssh/authorized_keys:ro",
            *(["-v", f"{preload}:/preload.tar:ro"] if preload else []),
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
            "--stop-signal", "SIGRTMIN+3", "--network", network, "--ip", address, IMAGE,
        )
        started.append((name, address))
    def ready(host: tuple[str, str]) -> None:
        name, address = host
        wait_ssh(address)
        wait_dockerd(name)
        if preload:
            docker("exec", name, "docker", "load", "-q", "-i", "/preload.tar")

    # Loads are disk-bound: a few at a time.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(ready, started))
    return started


def destroy() -> None:
    """Remove every container, volume and the network carrying this prefix."""
    listed = docker("ps", "-aq", "--filter", f"name=^{prefix()}[0-9]+$").stdout.split()
    if listed:
        docker("rm", "-f", *listed)
    for volume in docker("volume", "ls", "-q", "--filter", f"name={prefix()}").stdout.split():
        if volume.startswith(prefix()) and volume.endswith("-docker"):
            docker("volume", "rm", volume, check=False)
    docker("network", "rm", prefix(), check=False)


def cpu_seconds() -> float | None:
    """CPU time used so far by every test host of this prefix (its container's cgroup: sshd, the
    shells, the docker CLI, the nested dockerd), or None where the cgroup files are not found."""
    ids = docker("ps", "-q", "--no-trunc", "--filter", f"name=^{prefix()}[0-9]+$").stdout.split()
    total = 0.0
    for container in ids:
        v1 = Path("/sys/fs/cgroup/cpuacct/docker", container, "cpuacct.usage")
        v2 = [Path("/sys/fs/cgroup/docker", container, "cpu.stat"),
              Path("/sys/fs/cgroup/system.slice", f"docker-{container}.scope", "cpu.stat")]
        if v1.exists():
            total += int(v1.read_text()) / 1e9
            continue
        stat = next((path for path in v2 if path.exists()), None)
        if stat is None:
            return None
        usage = dict(line.split() for line in stat.read_text().splitlines())
        total += int(usage["usage_usec"]) / 1e6
    return total


def pyinfra_inventory(hosts: list[tuple[str, str]], path: Path) -> Path:
    """A pyinfra inventory file (group ``bench_hosts``) of HOSTS."""
    data = {
        "ssh_user": "root", "ssh_key": str(KEY),
        "ssh_strict_host_key_checking": "no", "ssh_known_hosts_file": "/dev/null",
    }
    entries = [(address, {**data, "instance": name}) for name, address in hosts]
    path.write_text(f"bench_hosts = {entries!r}\n")
    return path


def ansible_inventory(hosts: list[tuple[str, str]], path: Path) -> Path:
    lines = ["[bench_hosts]"] + [f"{address} instance={name}" for name, address in hosts]
    lines += [
        "[bench_hosts:vars]", "ansible_user=root", f"ansible_ssh_private_key_file={KEY}",
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
