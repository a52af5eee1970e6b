"""pyinfra inventory of the fleet scenario's test hosts (from Molecule's instance config).

Groups: test_hosts (all), fleet_full (the first host: egress proxy and its image),
fleet_light (the others: no egress proxy, to keep CI time down).
"""

import os

import yaml

with open(os.environ["MOLECULE_INSTANCE_CONFIG"]) as handle:
    _instances = sorted(yaml.safe_load(handle) or [], key=lambda i: i["instance"])

_hosts = [
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

test_hosts = _hosts
fleet_full = _hosts[:1]
fleet_light = _hosts[1:]
