#!/usr/bin/env bash
# Time the vm scenario step by step (prints one line per step, seconds):
#   molecule/vm/measure.sh            image build (cached if current), boot, converge, ...
#   REBUILD=1 molecule/vm/measure.sh  include a fresh image build
# Same steps as `molecule test -s vm`, plus one extra timed reboot between idempotence and
# verify (the verify step's own reboot is not timed separately). Logs: .cache/logs/vm-<step>.log
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1
export PATH=$repo/.venv/bin:$PATH
mkdir -p .cache/logs
total_start=$SECONDS
declare -a lines

timed() {  # name, command...
  local name=$1 start=$SECONDS status=ok; shift
  "$@" >".cache/logs/vm-$name.log" 2>&1 || status=FAILED
  lines+=("$(printf '%-12s %5ss %s' "$name" $((SECONDS - start)) "$status")")
  printf '%s\n' "${lines[-1]}"
  [[ $status == ok ]]
}

ssh_vm() {
  ssh -q -i .cache/testhost/id_ed25519 -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 root@127.0.0.1 "$@"
}

reboot_vm() {  # reboot, wait (bounded) for a new boot id and a finished boot
  local before after
  before=$(ssh_vm cat /proc/sys/kernel/random/boot_id) || return 1
  ssh_vm systemd-run --on-active=1 systemctl reboot || return 1
  for _ in $(seq 1 200); do
    sleep 3
    after=$(ssh_vm cat /proc/sys/kernel/random/boot_id 2>/dev/null) || continue
    [[ $after != "$before" ]] && break
  done
  [[ -n $after && $after != "$before" ]] || return 1
  ssh_vm timeout 300 systemctl is-system-running --wait
}

molecule destroy -s vm >/dev/null 2>&1
timed image molecule/vm/build-image.sh &&
  timed create molecule create -s vm &&
  timed converge molecule converge -s vm &&
  timed idempotence molecule idempotence -s vm &&
  timed reboot reboot_vm &&
  timed verify molecule verify -s vm
timed destroy molecule destroy -s vm
echo "total        $((SECONDS - total_start))s  (create includes the KVM probe and the boot)"
