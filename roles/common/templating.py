"""One jinja2 setup for the config files roles render (squid.conf, guard scripts, units)."""

from pathlib import Path

import jinja2


def render(directory: Path, template: str, **variables) -> str:
    """Render ``template`` from ``directory``: undefined variables are errors, block tags leave
    no blank lines behind, the file keeps its trailing newline."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(template).render(**variables)
