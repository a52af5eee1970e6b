#!/bin/sh
# Installed by sandbox-host (roles/host_network). TCP MSS clamping for connections forwarded
# from/to the Docker and sandbox bridges: a SYN crossing them gets an MSS that fits the path, so
# the far end never sends segments a smaller link further along drops (a PMTU black hole, seed
# 001 "MTU mismatch": small requests work, large ones hang).
#
#   mss-clamp.sh CHAIN MODE BRIDGE...     MODE: pmtu | off | an MSS in bytes
#
# Owns one mangle chain, jumped from mangle FORWARD (Docker never touches the mangle table, so a
# dockerd restart leaves it alone). Rewrites the chain whole: idempotent, safe to run any time;
# the deploy runs it when the rules differ, the boot unit at boot (iptables rules do not survive
# a reboot). IPv6 (ip6tables) best effort, like IPv4 when the tool exists.
set -u
if [ "$#" -lt 2 ]; then
    echo "usage: $0 CHAIN pmtu|off|MSS BRIDGE..." >&2
    exit 2
fi
chain=$1
mode=$2
shift 2
case $mode in
    pmtu) target="--clamp-mss-to-pmtu" ;;
    off) target="" ;;
    *[!0-9]* | "") echo "mss-clamp: MODE must be pmtu, off or a number, not '$mode'" >&2; exit 2 ;;
    *) target="--set-mss $mode" ;;
esac

clamp() {
    tool=$1
    shift
    while "$tool" -w -t mangle -D FORWARD -j "$chain" 2>/dev/null; do :; done
    if [ -z "$target" ]; then
        "$tool" -w -t mangle -F "$chain" 2>/dev/null
        "$tool" -w -t mangle -X "$chain" 2>/dev/null
        return 0
    fi
    "$tool" -w -t mangle -N "$chain" 2>/dev/null || "$tool" -w -t mangle -F "$chain" || return 1
    for bridge in "$@"; do
        for direction in -i -o; do
            # $target is two words for --set-mss: split on purpose.
            # shellcheck disable=SC2086
            "$tool" -w -t mangle -A "$chain" "$direction" "$bridge" -p tcp -m tcp \
                --tcp-flags SYN,RST SYN -j TCPMSS $target || return 1
        done
    done
    "$tool" -w -t mangle -A FORWARD -j "$chain"
}

status=0
for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null 2>&1 || continue
    if ! clamp "$tool" "$@"; then
        echo "mss-clamp: $tool failed" >&2
        [ "$tool" = iptables ] && status=1
    fi
done
exit $status
