#!/usr/bin/python3
"""sandbox-host conformance self-check: does this host still match what the deploy declared?

Installed by roles/conformance as /usr/local/sbin/sandbox-host-conformance and run by its timer
(or cron). Python standard library only. Reads the declared state the deploy wrote
(/etc/sandbox-host/conformance.json), checks the host against it, runs a few egress probes from a
throwaway container on the sandbox's internal network, and writes:

  - the result JSON (schema: result.schema.json next to this file in the repository),
  - one line on stdout (the journal, under systemd),
  - optionally a node-exporter textfile, one metric per check;

then exits 0 when every check passed, 1 when one failed, 2 when the declared state is unusable.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DECLARED_SCHEMA = "sandbox-host/conformance-declared"
DECLARED_VERSIONS = (1,)
RESULT_SCHEMA = "sandbox-host/conformance-result"
RESULT_VERSION = 1
PROBE_SCRIPT = "/usr/local/lib/sandbox-host/conformance-probe.sh"
PROBE_LABEL = "org.sandbox-host.conformance-probe"
MERGED_MAPPINGS = ("log-opts", "runtimes")  # daemon.json keys merged entry by entry by the deploy

PASS, FAIL, SKIP = "pass", "fail", "skip"


class System:
    """Everything the checks read from the host; unit tests replace it with a fake."""

    def read(self, path: str) -> str | None:
        try:
            return Path(path).read_text()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def run(self, argv: list[str], timeout: float = 30) -> tuple[int, str, str]:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            return 127, "", f"{argv[0]}: not installed"
        except subprocess.TimeoutExpired:
            return 124, "", f"{argv[0]}: no answer within {timeout}s"
        return done.returncode, done.stdout, done.stderr

    def exists(self, command: str) -> bool:
        return any(os.access(os.path.join(d, command), os.X_OK) for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


# Host state ------------------------------------------------------------------------------------

def check_daemon_json(sys_, declared):
    spec = declared["daemon_json"]
    text = sys_.read(spec["path"])
    if text is None:
        return FAIL, f"{spec['path']} is missing"
    try:
        current = json.loads(text)
    except json.JSONDecodeError as exc:
        return FAIL, f"{spec['path']} is not valid JSON ({exc})"
    wrong = []
    for key, want in sorted(spec["managed"].items()):
        have = current.get(key)
        if key in MERGED_MAPPINGS and isinstance(want, dict) and isinstance(have, dict):
            have = {k: have.get(k) for k in want}
        if have != want:
            wrong.append(f"{key}: file has {json.dumps(have)}, declared {json.dumps(want)}")
    runtime = spec.get("runtime")
    if runtime:
        entry = (current.get("runtimes") or {}).get(runtime["name"]) or {}
        if entry.get("path") != runtime["path"]:
            wrong.append(f"runtimes.{runtime['name']}.path: file has {json.dumps(entry.get('path'))}, declared {runtime['path']}")
        is_default = current.get("default-runtime") == runtime["name"]
        if is_default != runtime["default"]:
            wrong.append(f"default-runtime: file has {json.dumps(current.get('default-runtime'))}, "
                         f"declared {'%s' % runtime['name'] if runtime['default'] else 'not ' + runtime['name']}")
    if wrong:
        return FAIL, "; ".join(wrong)
    return PASS, f"{len(spec['managed'])} managed keys match in {spec['path']}"


def check_runtime_registered(sys_, declared):
    runtime = declared["daemon_json"].get("runtime")
    code, out, err = sys_.run(["docker", "info", "--format", "{{json .Runtimes}} {{.DefaultRuntime}}"])
    if code != 0:
        return FAIL, f"docker info failed: {_first_line(err) or code}"
    runtimes_json, _, default = out.strip().rpartition(" ")
    try:
        runtimes = json.loads(runtimes_json) or {}
    except json.JSONDecodeError:
        return FAIL, f"docker info printed {out.strip()!r}"
    if not runtime:
        return PASS, f"no runtime declared; dockerd's default runtime is {default}"
    problems = []
    if runtime["name"] not in runtimes:
        problems.append(f"dockerd does not know runtime {runtime['name']} (has: {', '.join(sorted(runtimes))})")
    if runtime["default"] and default != runtime["name"]:
        problems.append(f"default runtime is {default}, declared {runtime['name']}")
    if not runtime["default"] and default == runtime["name"]:
        problems.append(f"default runtime is {default}, declared not to be")
    if problems:
        return FAIL, "; ".join(problems)
    return PASS, f"runtime {runtime['name']} registered; default runtime {default}"


def check_sysctl_file(sys_, declared):
    spec = declared["sysctl"]
    text = sys_.read(spec["path"])
    if text is None:
        return FAIL, f"{spec['path']} is missing"
    if _sha(text) != spec["sha256"]:
        return FAIL, f"{spec['path']} differs from the declared content (sha256 {_sha(text)[:12]}, declared {spec['sha256'][:12]})"
    return PASS, f"{spec['path']} as declared"


def check_sysctl_live(sys_, declared):
    wrong = []
    for key, want in sorted(declared["sysctl"]["values"].items()):
        have = sys_.read("/proc/sys/" + key.replace(".", "/"))
        have = " ".join(have.split()) if have is not None else None
        if have != " ".join(str(want).split()):
            wrong.append(f"{key} = {have}, declared {want}")
    if wrong:
        return FAIL, "; ".join(wrong)
    return PASS, f"{len(declared['sysctl']['values'])} live values as declared"


def check_docker_proxy_dropin(sys_, declared):
    spec = declared.get("docker_proxy_dropin")
    if spec is None:
        return SKIP, "no systemd drop-in on this host (init is not systemd)"
    text = sys_.read(spec["path"])
    if spec["sha256"] is None:
        return (PASS, f"{spec['path']} absent, as declared") if text is None else (
            FAIL, f"{spec['path']} exists; declared absent (no proxy for dockerd)")
    if text is None:
        return FAIL, f"{spec['path']} is missing"
    if _sha(text) != spec["sha256"]:
        return FAIL, f"{spec['path']} differs from the declared content"
    return PASS, f"{spec['path']} as declared"


def check_input_guard(sys_, declared):
    spec = declared.get("input_guard")
    if spec is None:
        return SKIP, "no INPUT guard declared"
    chain, problems, seen = spec["chain"], [], []
    for tool in ("iptables", "ip6tables"):
        if tool == "ip6tables" and not sys_.exists(tool):
            continue
        code, out, err = sys_.run([tool, "-w", "-S", "INPUT"])
        if code != 0:
            problems.append(f"{tool} -S INPUT failed: {_first_line(err)}")
            continue
        rules = out.splitlines()
        for bridge in spec["bridges"]:
            if f"-A INPUT -i {bridge} -j {chain}" not in rules:
                problems.append(f"{tool}: INPUT has no jump from {bridge} to {chain}")
        code, out, _ = sys_.run([tool, "-w", "-S", chain])
        if code != 0:
            problems.append(f"{tool}: chain {chain} is missing")
        elif f"-A {chain} -j DROP" not in out.splitlines():
            problems.append(f"{tool}: chain {chain} does not end in DROP")
        seen.append(tool)
    if problems:
        return FAIL, "; ".join(problems)
    return PASS, f"{' and '.join(seen)}: {', '.join(spec['bridges'])} jump to {chain}, which drops"


def _inspect(sys_, *argv):
    code, out, err = sys_.run(["docker", *argv])
    if code != 0:
        return None, _first_line(err) or f"exit {code}"
    try:
        return json.loads(out), None
    except json.JSONDecodeError:
        return None, f"docker {' '.join(argv)} printed no JSON"


def _image_id(sys_, ref):
    code, out, _ = sys_.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref])
    return out.strip() if code == 0 else None


def check_egress_proxy_container(sys_, declared):
    spec = declared.get("egress_proxy")
    if spec is None:
        return SKIP, "no egress proxy declared"
    found, err = _inspect(sys_, "container", "inspect", "--format", "{{json .}}", spec["container"])
    if found is None:
        return FAIL, f"container {spec['container']}: {err}"
    problems = []
    if not found.get("State", {}).get("Running"):
        problems.append(f"container {spec['container']} is not running ({found.get('State', {}).get('Status')})")
    want_id = _image_id(sys_, spec["image"])
    if want_id is None:
        problems.append(f"image {spec['image']} is missing")
    elif found.get("Image") != want_id:
        problems.append(f"runs image {found.get('Image', '')[:19]}, declared {spec['image']} ({want_id[:19]})")
    nets = (found.get("NetworkSettings") or {}).get("Networks") or {}
    ip = (nets.get(spec["internal_network"]) or {}).get("IPAddress")
    if ip != spec["ip"]:
        problems.append(f"address on {spec['internal_network']} is {ip}, declared {spec['ip']}")
    if spec["egress_network"] not in nets:
        problems.append(f"not attached to {spec['egress_network']}")
    if problems:
        return FAIL, "; ".join(problems)
    return PASS, f"{spec['container']} running {spec['image']} at {spec['ip']}:{spec['port']}"


def check_egress_proxy_config(sys_, declared):
    spec = declared.get("egress_proxy")
    if spec is None:
        return SKIP, "no egress proxy declared"
    code, out, err = sys_.run(["docker", "exec", spec["container"], "cat", spec["config_path"]])
    if code != 0:
        return FAIL, f"cannot read {spec['config_path']} in {spec['container']}: {_first_line(err)}"
    if _sha(out) != spec["config_sha256"]:
        return FAIL, f"{spec['config_path']} in {spec['container']} has sha256 {_sha(out)[:12]}, declared {spec['config_sha256'][:12]}"
    return PASS, f"{spec['config_path']} sha256 {spec['config_sha256'][:12]} as declared"


def check_image_tags(sys_, declared):
    problems, ok = [], []
    for tag in declared["images"]:
        tag_id = _image_id(sys_, tag)
        latest = tag.rsplit(":", 1)[0] + ":latest"
        if tag_id is None:
            problems.append(f"{tag} is missing")
        elif _image_id(sys_, latest) != tag_id:
            problems.append(f"{latest} is not {tag}")
        else:
            ok.append(tag)
    if problems:
        return FAIL, "; ".join(problems)
    return PASS, ("current: " + ", ".join(ok)) if ok else "no images declared"


HOST_CHECKS = {
    "daemon_json": check_daemon_json,
    "runtime_registered": check_runtime_registered,
    "sysctl_file": check_sysctl_file,
    "sysctl_live": check_sysctl_live,
    "docker_proxy_dropin": check_docker_proxy_dropin,
    "input_guard": check_input_guard,
    "egress_proxy_container": check_egress_proxy_container,
    "egress_proxy_config": check_egress_proxy_config,
    "image_tags": check_image_tags,
}

# Egress probes ---------------------------------------------------------------------------------

PROBES = ("probe_proxy_refuses_denied", "probe_proxy_allows_target", "probe_direct_tcp_blocked",
          "probe_ipv6_off", "probe_host_services_unreachable")


def parse_probe_output(out: str) -> dict[str, tuple[str, str]]:
    """The probe script prints `id<TAB>status<TAB>evidence` per probe."""
    found = {}
    for line in out.splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[0] in PROBES and parts[1] in (PASS, FAIL, SKIP):
            found[parts[0]] = (parts[1], parts[2])
    return found


def run_probes(sys_, declared, script: str | None) -> dict[str, tuple[str, str]]:
    spec, proxy = declared.get("probe"), declared.get("egress_proxy")
    if spec is None or proxy is None:
        return {probe: (SKIP, "no sandbox network or egress proxy declared") for probe in PROBES}
    if script is None:
        return {probe: (FAIL, f"probe script {PROBE_SCRIPT} is missing") for probe in PROBES}
    found, _ = _inspect(sys_, "container", "inspect", "--format", "{{json .NetworkSettings.Networks}}", proxy["container"])
    direct_ip = ((found or {}).get(proxy["egress_network"]) or {}).get("IPAddress") or ""
    # A host service of our own, on every address, for the probe to (not) reach.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("0.0.0.0", 0))
        listener.listen(8)
        host_port = listener.getsockname()[1]
        name = f"sandbox-host-conformance-probe-{os.getpid()}"
        argv = ["docker", "run", "--rm", "--name", name, "--label", f"{PROBE_LABEL}=1",
                "--network", spec["network"], "--cap-drop=ALL", "--security-opt=no-new-privileges",
                "--read-only", "--memory=64m", "--pids-limit=64", "--entrypoint", "bash"]
        if spec.get("runtime"):
            argv += ["--runtime", spec["runtime"]]
        argv += [spec["image"], "-c", script, "probe", proxy["ip"], str(proxy["port"]), spec["denied_name"],
                 spec.get("allowed_target") or "-", direct_ip or "-", str(proxy["port"]), spec["gateway"],
                 str(host_port), str(spec["timeout"])]
        code, out, err = sys_.run(argv, timeout=60 + 5 * spec["timeout"])
        if code == 124:
            sys_.run(["docker", "rm", "-f", name])
    finally:
        listener.close()
    results = parse_probe_output(out)
    missing = [probe for probe in PROBES if probe not in results]
    for probe in missing:
        results[probe] = (FAIL, f"the probe container did not report (exit {code}: {_first_line(err) or 'no output'})")
    return results


# One run -----------------------------------------------------------------------------------------

def load_declared(text: str | None, path: str) -> dict:
    if text is None:
        raise ValueError(f"{path} is missing: run the deploy (roles/conformance)")
    try:
        declared = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(declared, dict) or declared.get("schema") != DECLARED_SCHEMA:
        raise ValueError(f"{path} is not a {DECLARED_SCHEMA} document")
    if declared.get("version") not in DECLARED_VERSIONS:
        raise ValueError(f"{path} has version {declared.get('version')}; this program reads {DECLARED_VERSIONS}")
    return declared


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def run(sys_, declared_path: str, probe_script: str | None, host: str | None = None) -> dict:
    started, clock = _now(), time.monotonic()
    text = sys_.read(declared_path)
    checks = []
    declared = None
    try:
        declared = load_declared(text, declared_path)
    except ValueError as exc:
        checks.append({"id": "declared_state", "group": "host", "status": FAIL, "evidence": str(exc)})
    if declared is not None:
        for check_id, check in HOST_CHECKS.items():
            try:
                status, evidence = check(sys_, declared)
            except Exception as exc:  # one broken check must not hide the others
                status, evidence = FAIL, f"check crashed: {type(exc).__name__}: {exc}"
            checks.append({"id": check_id, "group": "host", "status": status, "evidence": evidence})
        for probe, (status, evidence) in run_probes(sys_, declared, probe_script).items():
            checks.append({"id": probe, "group": "egress", "status": status, "evidence": evidence})
    failed = [c["id"] for c in checks if c["status"] == FAIL]
    return {
        "schema": RESULT_SCHEMA,
        "version": RESULT_VERSION,
        "host": host or socket.gethostname(),
        "started": started,
        "finished": _now(),
        "duration_seconds": round(time.monotonic() - clock, 3),
        "declared_path": declared_path,
        "declared_sha256": _sha(text) if text is not None else None,
        "policy_sha256": (declared or {}).get("policy_sha256"),
        "status": FAIL if failed else PASS,
        "failed": failed,
        "checks": checks,
    }


def summary_line(result: dict, result_path: str) -> str:
    counted = f"{len(result['checks'])} checks"
    if result["failed"]:
        return (f"sandbox-host conformance FAIL: {len(result['failed'])} of {counted} failed: "
                f"{', '.join(result['failed'])} ({result['duration_seconds']}s; details: {result_path})")
    return f"sandbox-host conformance PASS: {counted} ({result['duration_seconds']}s; details: {result_path})"


def textfile(result: dict) -> str:
    """node-exporter textfile: one gauge per check (1 pass, 0 fail; skipped checks left out)."""
    lines = [
        "# HELP sandbox_host_conformance_check 1 when the check passed on the last run, 0 when it failed.",
        "# TYPE sandbox_host_conformance_check gauge",
    ]
    lines += [f'sandbox_host_conformance_check{{check="{c["id"]}"}} {int(c["status"] == PASS)}'
              for c in result["checks"] if c["status"] != SKIP]
    finished = datetime.datetime.fromisoformat(result["finished"]).timestamp()
    lines += [
        "# HELP sandbox_host_conformance_ok 1 when every check passed on the last run.",
        "# TYPE sandbox_host_conformance_ok gauge",
        f"sandbox_host_conformance_ok {int(result['status'] == PASS)}",
        "# HELP sandbox_host_conformance_last_run_timestamp_seconds When the last run finished.",
        "# TYPE sandbox_host_conformance_last_run_timestamp_seconds gauge",
        f"sandbox_host_conformance_last_run_timestamp_seconds {int(finished)}",
        "# HELP sandbox_host_conformance_duration_seconds How long the last run took.",
        "# TYPE sandbox_host_conformance_duration_seconds gauge",
        f"sandbox_host_conformance_duration_seconds {result['duration_seconds']}",
    ]
    return "\n".join(lines) + "\n"


def write_atomically(path: str, text: str) -> None:
    """Readers (the report, node-exporter) never see half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--declared", default="/etc/sandbox-host/conformance.json")
    parser.add_argument("--probe-script", default=PROBE_SCRIPT)
    args = parser.parse_args(argv)
    sys_ = System()
    result = run(sys_, args.declared, sys_.read(args.probe_script))
    try:
        declared = load_declared(sys_.read(args.declared), args.declared)
    except ValueError:
        declared = {}
    result_path = declared.get("result_path", "/var/lib/sandbox-host/conformance.json")
    write_atomically(result_path, json.dumps(result, indent=2) + "\n")
    if declared.get("textfile_dir"):
        write_atomically(os.path.join(declared["textfile_dir"], "sandbox-host-conformance.prom"), textfile(result))
    print(summary_line(result, result_path), flush=True)
    if declared == {}:
        return 2
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
