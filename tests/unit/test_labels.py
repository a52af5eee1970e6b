"""The container labels the roles recognise (roles/common/labels.py) are the ones the standalone
programs that create those containers put on them."""

import importlib.util
import re
from pathlib import Path

from sandbox_host.roles.common import labels
from sandbox_host.roles.launcher import agent_sandbox

REPO = Path(__file__).resolve().parents[2]


def test_the_launcher_labels_its_sandboxes_and_gateways_as_the_roles_expect():
    key, value = labels.AGENT_LABEL
    assert agent_sandbox.ROLE_LABEL == f"{key}={value}" == "org.sandbox-host.role=agent"
    assert agent_sandbox.GATEWAY_SPEC_LABEL == labels.SPEC_LABEL == "org.sandbox-host.spec"


def test_probe_containers_carry_a_probe_label():
    path = REPO / "roles/conformance/files/conformance_check.py"
    spec = importlib.util.spec_from_file_location("conformance_check", path)
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    diagnose_probe = (REPO / "sandbox_host/diagnose/files/run-probe.sh").read_text()
    (diagnose_label,) = re.findall(r"--label ([\w.-]+)=", diagnose_probe)
    assert labels.PROBE_LABELS == (check.PROBE_LABEL, diagnose_label)
    assert labels.PROBE_LABELS == ("org.sandbox-host.conformance-probe", "sandbox-host.diagnose")
