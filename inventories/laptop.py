"""This laptop, as the person who owns it: `scripts/bootstrap-laptop.sh` runs
`sandbox-host deploy inventories/laptop.py`; settings: group_vars/laptop.yml (plus the folder the
bootstrap writes for the invoking user: agent.host_user, an existing docker.io kept)."""

laptop = ["@local"]
