"""Docker labels the project puts on the containers it creates, for the roles that must recognise
them. The scripts installed on hosts (agent-sandbox, the conformance check, the diagnose probe)
are standalone and spell them out themselves; tests/unit/test_labels.py checks they agree."""

# A container recreated from its spec (a hash of its image and arguments) by whoever created it,
# whenever it is missing or differs: the egress proxy by the deploy, a credential gateway by
# agent-sandbox at the next start.
SPEC_LABEL = "org.sandbox-host.spec"
# An agent sandbox (agent-sandbox run/start); its value is "agent".
AGENT_LABEL = ("org.sandbox-host.role", "agent")
# Throwaway probe containers that live for seconds (--rm): the conformance check's and diagnose's.
PROBE_LABELS = ("org.sandbox-host.conformance-probe", "sandbox-host.diagnose")


def recreated_by_owner(labels: dict | None) -> bool:
    """A container whose creator makes it again when it is missing or stopped (SPEC_LABEL), or a
    throwaway probe: one the deploy may stop or remove without taking anything from anyone."""
    labels = labels or {}
    return SPEC_LABEL in labels or any(label in labels for label in PROBE_LABELS)
