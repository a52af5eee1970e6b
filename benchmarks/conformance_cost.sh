#!/bin/bash
# What one conformance self-check run costs on a host: wall time; CPU of the program and the
# commands it waits for (docker CLI, iptables: getrusage of its children); CPU of the host's
# cgroup during the run (adds dockerd, containerd, the shim; see cpu_total_ns).
# Runs ON the host, as root, with the conformance role deployed; the timer is paused meanwhile so
# its own runs do not count:
#   ssh -p PORT -i KEY root@HOST bash -s -- [RUNS] < benchmarks/conformance_cost.sh
# On a real machine with cgroup v2 the total includes everything else running there. Each run is a
# real run (it rewrites the result file).
set -euo pipefail
runs=${1:-5}
program=/usr/local/sbin/sandbox-host-conformance
timer=sandbox-host-conformance.timer

# CPU nanoseconds used so far by this machine's (or test host container's) cgroup: cgroup v1's
# cpuacct of the cgroup this shell is in (a test host: its container, the probe container aside:
# the inner dockerd puts it in a sibling cgroup), else cgroup v2's root cpu.stat (all of the machine).
cpu_total_ns() {
    local path key value
    path=$(sed -n 's/^[0-9]*:[a-z,]*cpuacct[a-z,]*://p' /proc/self/cgroup)
    if [ -n "$path" ] && [ -r "/sys/fs/cgroup/cpuacct$path/cpuacct.usage" ]; then
        cat "/sys/fs/cgroup/cpuacct$path/cpuacct.usage"
    else
        while read -r key value; do
            [ "$key" = usage_usec ] && { echo $((value * 1000)); return; }
        done </sys/fs/cgroup/cpu.stat
    fi
}

paused=no
if systemctl is-active --quiet "$timer" 2>/dev/null; then
    systemctl stop "$timer"
    paused=yes
fi
trap '[ "$paused" = yes ] && systemctl start "$timer"' EXIT

echo "run  wall_s  program_cpu_s  host_cpu_s  result"
for i in $(seq 1 "$runs"); do
    before=$(cpu_total_ns)
    start=$(date +%s%N)
    # shellcheck disable=SC2016  # the program's own arguments
    program_cpu=$(python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{usage.ru_utime + usage.ru_stime:.2f}")' "$program")
    end=$(date +%s%N)
    after=$(cpu_total_ns)
    status=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"])' /var/lib/sandbox-host/conformance.json)
    awk -v i="$i" -v wall=$((end - start)) -v prog="$program_cpu" -v host=$((after - before)) -v s="$status" \
        'BEGIN { printf "%3d  %6.2f  %13s  %10.2f  %s\n", i, wall / 1e9, prog, host / 1e9, s }'
done
