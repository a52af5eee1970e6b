"""pyinfra inventory of the running Molecule scenario's test hosts (group: test_hosts).

Molecule's create step writes each host's SSH address to the file named by
MOLECULE_INSTANCE_CONFIG; testinfra reads the same file, so both talk to the same hosts the way
they would talk to a real runner.
"""

import os

import yaml

with open(os.environ["MOLECULE_INSTANCE_CONFIG"]) as handle:
    _instances = yaml.safe_load(handle) or []

test_hosts = [
    (
        i["address"],
        {
            "ssh_user": i["user"],
            "ssh_port": i["port"],
            "ssh_key": i["identity_file"],
            "ssh_strict_host_key_checking": "no",
            "ssh_known_hosts_file": "/dev/null",
            "instance": i["instance"],
        },
    )
    for i in _instances
]
