#!/bin/sh
# A network namespace's state, read from /proc and /sys only (no iproute2 on minimal hosts and
# images), as '##name' sections for sandbox_host.diagnose.procnet: routes (v4, v6), IPv6
# addresses, whether IPv6 is disabled, and every link as "name mtu operstate master".
# Runs on the host (NetworkState) and inside probe containers (container-probe.sh). Exits 0.
echo '##route'; cat /proc/net/route 2>/dev/null
echo '##ipv6_route'; cat /proc/net/ipv6_route 2>/dev/null
echo '##if_inet6'; cat /proc/net/if_inet6 2>/dev/null
echo '##disable_ipv6'; cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
echo '##links'
for d in /sys/class/net/*; do
  n=${d##*/} m=-
  [ -e "$d/master" ] && m=$(basename "$(readlink "$d/master")")
  echo "$n $(cat "$d/mtu" 2>/dev/null || echo -) $(cat "$d/operstate" 2>/dev/null || echo -) $m"
done
exit 0
