#!/bin/sh
# Start Squid with the [::] listener only where this namespace has working IPv6.
#
# Squid 5 stops with "FATAL: http_port: IPv6 is not available" on an [::] listener when IPv6 is
# off, and Docker turns IPv6 off in containers on networks without IPv6 (the sandbox's). Where
# IPv6 works (::1 on lo), clients that connect over IPv6 find a listener (seed 004).
set -eu
conf=/etc/squid/squid.conf
ipv6_listener=/etc/squid/listen-ipv6.conf
if [ -f "$ipv6_listener" ] && grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
    cat "$conf" "$ipv6_listener" > /tmp/squid.conf
    conf=/tmp/squid.conf
    echo "sandbox-proxy: IPv6 available: listening on IPv4 and IPv6" >&2
else
    echo "sandbox-proxy: no IPv6 in this namespace: listening on IPv4 only" >&2
fi
exec squid -N -f "$conf"
