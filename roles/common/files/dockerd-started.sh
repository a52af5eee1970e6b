#!/bin/sh
# When the running dockerd started, in seconds since the epoch (nothing when none runs in this PID
# namespace). The process: systemd's docker.service where systemd runs it, else pidof (a host
# with nested test hosts sees their dockerds too). Its start: clock ticks after boot from
# /proc/PID/stat plus the boot time, so neither ps nor a particular date(1) is needed.
pid=$(systemctl show --property MainPID --value docker 2>/dev/null)
if [ -z "$pid" ] || [ "$pid" = 0 ]; then
  pid=$(pidof -s dockerd 2>/dev/null) || exit 0
fi
ticks=$(getconf CLK_TCK) || exit 0
after_boot=$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null) || exit 0
boot=$(awk '/^btime /{print $2}' /proc/stat)
[ -n "$after_boot" ] && [ -n "$boot" ] && echo $((boot + after_boot / ticks))
