"""This machine. `pyinfra inventories/dev.py deploys/sandbox_host.py`; settings: group_vars/dev.yml."""

dev = ["@local"]
