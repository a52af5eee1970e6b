#!/bin/sh
# Inside a probe container: what the container sees, as '##name' sections.
#   container-probe.sh LOOKUP TIMEOUT NET_SECTIONS
# Its resolv.conf, resolving LOOKUP (getent, at most TIMEOUT seconds; '##resolve_rc' 124: timed
# out), then the namespace's routes, IPv6 and links (NET_SECTIONS: the text of net-sections.sh,
# which is not in the image).
lookup=$1 timeout=$2 net_sections=$3
echo '##resolv'
cat /etc/resolv.conf
echo '##getent'
timeout "$timeout" getent ahosts "$lookup"
rc=$?
echo '##resolve_rc'
echo "$rc"
sh -c "$net_sections" net-sections.sh
