#!/bin/sh
# A "far side" behind a smaller link, with a PMTU black hole, built inside a test host
# (tests/host/test_path_mtu.py; only namespaces and links of its own, removed by `down`):
#
#   containers -> test host --(net-far-h, MTU 1280)--> router ns --(MTU 1500)--> server ns
#
# The server answers every TCP connection on port 8080 with SIZE bytes. Its own link is 1500,
# so it sends 1500-byte packets; the router cannot forward them over the 1280 link and would
# answer "fragmentation needed", but drops that ICMP (as many firewalls on real paths do): the
# sender never learns, and a download hangs. Unless the SYN's MSS was clamped on the way out.
#
#   far_side.sh up SERVER_PY SIZE     far_side.sh down
set -eu
rtr=net-farrtr
srv=net-farsrv
in_rtr() { ip netns exec "$rtr" "$@"; }
in_srv() { ip netns exec "$srv" "$@"; }

case ${1:-} in
up)
    server_py=$2
    size=$3
    ip netns add "$rtr"
    ip netns add "$srv"
    ip link add net-far-h type veth peer name net-far-r1
    ip link set net-far-r1 netns "$rtr"
    ip link add net-far-r2 type veth peer name net-far-s
    ip link set net-far-r2 netns "$rtr"
    ip link set net-far-s netns "$srv"
    # The small link: both of its ends at 1280.
    ip link set net-far-h mtu 1280 up
    ip addr add 10.231.0.1/30 dev net-far-h
    in_rtr ip link set lo up
    in_rtr ip link set net-far-r1 mtu 1280 up
    in_rtr ip addr add 10.231.0.2/30 dev net-far-r1
    in_rtr ip link set net-far-r2 mtu 1500 up
    in_rtr ip addr add 10.231.1.1/24 dev net-far-r2
    in_rtr sysctl -qw net.ipv4.ip_forward=1
    # The black hole: no "fragmentation needed" goes back to the sender.
    in_rtr iptables -w -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
    in_srv ip link set lo up
    in_srv ip link set net-far-s mtu 1500 up
    in_srv ip addr add 10.231.1.2/24 dev net-far-s
    in_srv ip route add default via 10.231.1.1
    # Linux's own black-hole detection off (its default), so only clamping can rescue the flow.
    in_srv sysctl -qw net.ipv4.tcp_mtu_probing=0
    ip route add 10.231.1.0/24 via 10.231.0.2 dev net-far-h
    # Bounded: the server exits on its own after 15 minutes even if `down` never runs.
    setsid ip netns exec "$srv" timeout 900 python3 "$server_py" 10.231.1.2 8080 "$size" \
        </dev/null >/dev/null 2>&1 &
    echo $! >/run/net-far-server.pid
    for _ in $(seq 50); do
        in_srv sh -c 'ss -ltn | grep -q ":8080 "' && exit 0
        sleep 0.2
    done
    echo "far side: the server did not start" >&2
    exit 1
    ;;
down)
    if [ -f /run/net-far-server.pid ]; then
        kill "$(cat /run/net-far-server.pid)" 2>/dev/null || true
        rm -f /run/net-far-server.pid
    fi
    for ns in "$srv" "$rtr"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    ip route del 10.231.1.0/24 2>/dev/null || true
    ip link del net-far-h 2>/dev/null || true
    ip netns del "$srv" 2>/dev/null || true
    ip netns del "$rtr" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 up SERVER_PY SIZE | down" >&2
    exit 2
    ;;
esac
