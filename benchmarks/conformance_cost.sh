#!/bin/bash
# What one conformance self-check run costs on a host: wall time, CPU of the run itself (the
# program, the docker CLI, iptables) and the CPU dockerd/containerd spend on its probe container.
# Runs ON the host, as root, with the conformance role deployed:
#   ssh -p PORT -i KEY root@HOST bash -s -- [RUNS] < benchmarks/conformance_cost.sh
# Each run is a real run (it rewrites the result file, as the timer would).
set -euo pipefail
runs=${1:-5}
program=/usr/local/sbin/sandbox-host-conformance

# Cumulative CPU (microseconds) of a systemd service's cgroup, exited processes included; 0 if absent.
cpu_usec() {
    local stat=/sys/fs/cgroup/system.slice/$1/cpu.stat
    if [ -r "$stat" ]; then
        while read -r key value; do [ "$key" = usage_usec ] && { echo "$value"; return; }; done <"$stat"
    fi
    echo 0
}

echo "run  wall_s  run_cpu_ms  docker_cpu_ms  result"
for i in $(seq 1 "$runs"); do
    docker_before=$(( $(cpu_usec docker.service) + $(cpu_usec containerd.service) ))
    start=$(date +%s%N)
    out=$(systemd-run --wait --collect -p CPUAccounting=yes --unit="sandbox-host-conformance-bench-$$-$i" \
        "$program" 2>&1 || true)
    end=$(date +%s%N)
    docker_after=$(( $(cpu_usec docker.service) + $(cpu_usec containerd.service) ))
    cpu=$(sed -n 's/^CPU time consumed: //p' <<<"$out")
    case $cpu in
        *ms) run_ms=${cpu%ms} ;;
        *s) run_ms=$(awk -v s="${cpu%s}" 'BEGIN { printf "%d", s * 1000 }') ;;
        *) run_ms="?" ;;
    esac
    status=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"])' /var/lib/sandbox-host/conformance.json)
    printf '%3d  %6.2f  %10s  %13d  %s\n' "$i" "$(awk -v ns=$((end - start)) 'BEGIN { print ns / 1e9 }')" \
        "$run_ms" $(( (docker_after - docker_before) / 1000 )) "$status"
done
