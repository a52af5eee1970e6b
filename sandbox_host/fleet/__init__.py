"""Fleet tools: drift check and staged rollout of the host deploy over an inventory of hosts.

Built on pyinfra's Python API (Inventory, State, Config, connect_all, run_ops): the deploy
composition (deploys/sandbox_host.py) is planned per host in dry mode and each operation's own
change detection says what would change; rollout executes the same plan batch by batch.

    inventory.py   an inventory spec (file, host list, @connector) as a pyinfra Inventory
    plan.py        connect, plan the deploy on every host (in parallel), run it
    keys.py        which group_vars key an operation realises; daemon.json/sysctl details
    drift.py       `sandbox-host drift`: per-host report, exit 0/1/3
    rollout.py     `sandbox-host rollout`: canary, batches, host checks, failure budget
    output.py      the versioned JSON shapes and the terminal tables
"""
