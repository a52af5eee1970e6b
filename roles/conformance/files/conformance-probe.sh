#!/bin/bash
# Installed by sandbox-host (roles/conformance). Runs inside a throwaway container on the sandbox's
# internal network (bash and coreutils' timeout only) and prints one line per probe:
#   <probe id> TAB pass|fail|skip TAB evidence
# Targets: the egress proxy, the proxy's own egress-side address, a listener the self-check opened
# on the host; the only outside traffic is a CONNECT to ALLOWED when the operator configured one.
set -u
proxy_ip=$1 proxy_port=$2 denied=$3 allowed=$4 direct_ip=$5 direct_port=$6 gateway=$7 host_port=$8 wait=$9

report() { printf '%s\t%s\t%s\n' "$1" "$2" "$3"; }

# Does a TCP connection to $1:$2 open within $wait seconds?
connects() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout "$wait" bash -c 'exec 3<>"/dev/tcp/$1/$2"' connect "$1" "$2" 2>/dev/null
}

# The proxy's status line for CONNECT $1:443 (empty when it does not answer).
connect_status() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout "$wait" bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" "$3" "$3" >&3
        IFS= read -r line <&3 && printf "%s" "$line"
    ' connect "$proxy_ip" "$proxy_port" "$1" 2>/dev/null
}

line=$(connect_status "$denied"); line=${line%$'\r'}
case $line in
    "HTTP/1."?" 403"*) report probe_proxy_refuses_denied pass "CONNECT $denied:443 via $proxy_ip:$proxy_port: $line" ;;
    "") report probe_proxy_refuses_denied fail "no answer from the proxy at $proxy_ip:$proxy_port within ${wait}s" ;;
    *) report probe_proxy_refuses_denied fail "CONNECT $denied:443 via $proxy_ip:$proxy_port answered: $line" ;;
esac

if [ "$allowed" = - ]; then
    report probe_proxy_allows_target skip "no allowed_probe_target configured: no outside traffic (the proxy answered above)"
else
    line=$(connect_status "$allowed"); line=${line%$'\r'}
    case $line in
        "HTTP/1."?" 200"*) report probe_proxy_allows_target pass "CONNECT $allowed:443 via the proxy: $line" ;;
        *) report probe_proxy_allows_target fail "CONNECT $allowed:443 via the proxy: ${line:-no answer within ${wait}s}" ;;
    esac
fi

if [ "$direct_ip" = - ]; then
    report probe_direct_tcp_blocked fail "the proxy has no address on its egress network to aim at"
elif connects "$direct_ip" "$direct_port"; then
    report probe_direct_tcp_blocked fail "connected to $direct_ip:$direct_port (outside the internal network) without the proxy"
else
    report probe_direct_tcp_blocked pass "no TCP connection to $direct_ip:$direct_port (outside the internal network) within ${wait}s"
fi

global=""
if [ -r /proc/net/if_inet6 ]; then
    # Columns: address, index, prefix length, scope (00 = global), flags, interface.
    while read -r address _ _ scope _ name; do
        [ "$scope" = 00 ] && global="$global $address/$name"
    done </proc/net/if_inet6
fi
disabled=$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || echo "n/a")
if [ -n "$global" ]; then
    report probe_ipv6_off fail "global IPv6 address(es) in the sandbox:$global (disable_ipv6=$disabled)"
else
    report probe_ipv6_off pass "no global IPv6 address in the sandbox (disable_ipv6=$disabled)"
fi

if connects "$gateway" "$host_port"; then
    report probe_host_services_unreachable fail "connected to a host service at $gateway:$host_port (the INPUT guard lets the sandbox in)"
else
    report probe_host_services_unreachable pass "no TCP connection to a host service at $gateway:$host_port within ${wait}s"
fi
