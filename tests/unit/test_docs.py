"""The README's settings reference is generated from the schema and every key is documented."""

from sandbox_host.config import docs
from sandbox_host.config.schema import HostConfig


def test_readme_settings_reference_is_current():
    assert docs.readme_section(docs.README.read_text()) == docs.tables().strip("\n"), (
        "run: python -m sandbox_host.config.docs --write"
    )


def test_every_setting_has_a_comment():
    undocumented = [
        f"{section}.{name}"
        for section, field in HostConfig.model_fields.items()
        for name in field.annotation.model_fields
        if name not in docs._comments(field.annotation)
    ]
    assert undocumented == []
