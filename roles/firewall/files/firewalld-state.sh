#!/bin/sh
# firewalld's state for roles/firewall/facts.py FirewalldState: "state: running|not running",
# "default: ZONE", then the runtime and the permanent zones under '## runtime' / '## permanent'.
# Two firewall-cmd calls (each a Python start plus D-Bus, ~0.3 s): --list-all-zones fails when
# the daemon is stopped, which answers "running?" too. The default zone is read from
# firewalld.conf (what --set-default-zone writes) rather than by a third call.
if runtime=$(firewall-cmd --list-all-zones 2>/dev/null); then
  echo 'state: running'
  echo "default: $(sed -n 's/^DefaultZone=//p' /etc/firewalld/firewalld.conf 2>/dev/null)"
  echo '## runtime'
  printf '%s\n' "$runtime"
  echo '## permanent'
  firewall-cmd --permanent --list-all-zones
else
  echo 'state: not running'
fi
