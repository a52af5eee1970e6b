#!/usr/bin/env bash
# Start or stop one `vm` scenario instance (QEMU, disk image from build-image.sh).
#   molecule/vm/qemu.sh start NAME SSH_PORT   boot NAME; its sshd answers on 127.0.0.1:SSH_PORT
#   molecule/vm/qemu.sh stop NAME             power it off and delete its disk overlay
#
# Each instance writes to its own qcow2 overlay, so the cached base image stays pristine.
# Networking is QEMU's user mode only: the VM reaches out through slirp's NAT, and the one way
# in is the hostfwd on 127.0.0.1. Accelerator: KVM when a probe boot proves it works (an opened
# /dev/kvm is not enough: nested KVM can open and then hang), else TCG; VM_ACCEL=kvm|tcg forces.
# Files per instance in .cache/vm/: NAME.qcow2, NAME.pid, NAME.console.log (the serial console).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$here/../.." && pwd)/.cache/vm
action=$1 name=$2

probe_kvm() {
  # A kernel with no root disk panics within a second or two under working KVM.
  [[ -r /dev/kvm && -w /dev/kvm ]] || return 1
  timeout 15 qemu-system-x86_64 -accel kvm -M q35 -m 256 -nodefaults -display none -serial stdio \
    -no-reboot -kernel "$dir/vmlinuz" -append "console=ttyS0 panic=-1" 2>/dev/null | grep -q "Kernel panic"
}

case $action in
start)
  port=$3
  accel=${VM_ACCEL:-}
  if [[ -z $accel ]]; then
    if probe_kvm; then accel=kvm; else accel=tcg; fi
  fi
  cpu=max
  [[ $accel == kvm ]] && cpu=host
  rm -f "$dir/$name.qcow2" "$dir/$name.console.log"
  qemu-img create -q -f qcow2 -F qcow2 -b "$dir/disk.qcow2" "$dir/$name.qcow2"
  qemu-system-x86_64 \
    -name "$name" -accel "$accel" -cpu "$cpu" -M q35 -m 2048 -smp 2 \
    -nodefaults -display none -serial "file:$dir/$name.console.log" \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0" \
    -drive "file=$dir/$name.qcow2,if=virtio,format=qcow2,discard=unmap" \
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=net0 \
    -device virtio-rng-pci \
    -pidfile "$dir/$name.pid" -daemonize
  echo "started $name (accel $accel), ssh on 127.0.0.1:$port, console $dir/$name.console.log"
  ;;
stop)
  if [[ -f $dir/$name.pid ]]; then
    pid=$(cat "$dir/$name.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
  fi
  rm -f "$dir/$name.pid" "$dir/$name.qcow2"
  echo "stopped $name"
  ;;
*)
  echo "usage: $0 start NAME SSH_PORT | stop NAME" >&2
  exit 2
  ;;
esac
