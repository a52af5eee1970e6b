"""The README's settings reference is generated from the schema and every key is documented."""

from sandbox_host.config import docs
from sandbox_host.config.schema import HostConfig


def test_readme_settings_reference_is_current():
    assert docs.readme_section(docs.README.read_text()) == docs.tables().strip("\n"), (
        "run: python -m sandbox_host.config.docs --write"
    )


def test_every_setting_has_a_description():
    undocumented = [
        f"{section}.{name}"
        for section, field in HostConfig.model_fields.items()
        for name, sub in field.annotation.model_fields.items()
        if not (sub.description or "").strip()
    ]
    assert undocumented == []


def test_role_readmes_link_to_the_reference_instead_of_copying_it():
    # Each setting is documented once (its description); a role README that keeps a table of
    # its own keys drifts.
    for readme in docs.README.parent.glob("roles/*/README.md"):
        assert "| key |" not in readme.read_text(), readme
