"""This Mac, as its user: `.venv/bin/pyinfra -y inventories/macos.py deploys/macos.py`; settings:
group_vars/macos.yml."""

macos = ["@local"]
