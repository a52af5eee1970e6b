#!/usr/bin/env bash
# Build the `vm` scenario's disk image once; reruns reuse it until an input changes.
#   molecule/vm/build-image.sh            -> .cache/vm/{disk.qcow2,vmlinuz,initrd.img}
#   REBUILD=1 molecule/vm/build-image.sh  forces a rebuild
#
# A plain Debian 12 host, as a cloud image would be: debootstrap (minbase + kernel, systemd,
# sshd, networkd with DHCP), the test SSH key for root, no Docker and nothing of this project.
# The root filesystem is written with `mkfs.ext4 -d` (no loop device, works in a container) and
# booted by QEMU directly (-kernel/-initrd from the image's /boot), so there is no bootloader.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
suite=bookworm
out=$repo/.cache/vm
key=$repo/.cache/testhost/id_ed25519
disk_size=12G
packages=linux-image-amd64,systemd-sysv,udev,dbus,kmod,procps,iproute2,openssh-server,sudo,ca-certificates,curl,iptables,less

need=()
for cmd in debootstrap:debootstrap qemu-img:qemu-utils qemu-system-x86_64:qemu-system-x86 mkfs.ext4:e2fsprogs; do
  command -v "${cmd%%:*}" >/dev/null || need+=("${cmd##*:}")
done
if ((${#need[@]})); then
  echo "installing ${need[*]}"
  apt-get -o APT::Sandbox::User=root update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [[ ! -f $key ]]; then
  mkdir -p "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C sandbox-host-tests -f "$key"
fi

# Rebuild when this script, the shared debootstrap recipe or the key changes.
debootstrap=$repo/roles/images/files/debootstrap.sh
inputs=$(cat "$0" "$debootstrap" "$key.pub" | sha256sum | cut -c1-16)
if [[ -z "${REBUILD:-}" && -f $out/disk.qcow2 && "$(cat "$out/inputs" 2>/dev/null)" == "$inputs" ]]; then
  echo "vm image $out/disk.qcow2 is current"
  exit 0
fi

# The Debian mirror this machine's apt uses (as scripts/build-base-image.sh picks it).
mirror=${DEBIAN_MIRROR:-$(sh "$debootstrap" mirror)}
mirror=${mirror%/}

start=$SECONDS
mkdir -p "$out"
root=$(mktemp -d /var/tmp/vm-image.XXXXXX)
# --one-file-system: never descend into a /proc or /sys debootstrap left mounted after a failure.
trap 'rm -rf --one-file-system "$root" "$out/disk.raw"' EXIT
sh "$debootstrap" root "$root" "$suite" "$mirror" "$packages"

cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
EOF
echo sbx-vm >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsbx-vm\n' >"$root/etc/hosts"
printf '/dev/vda\t/\text4\terrors=remount-ro\t0\t1\n' >"$root/etc/fstab"
# A fixed machine-id: an empty one makes systemd treat the boot as a first boot (preset-all).
tr -d '-' </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
# QEMU user networking: DHCP from slirp, and slirp's DNS forwarder at 10.0.2.3 (written after
# the chroot step, which resolves with this machine's resolv.conf).
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' >"$root/etc/systemd/network/80-dhcp.network"

install -d -m 700 "$root/root/.ssh"
install -m 600 "$key.pub" "$root/root/.ssh/authorized_keys"

chroot "$root" /bin/sh -ec '
  systemctl enable systemd-networkd.service ssh.service >/dev/null 2>&1
  passwd -l root >/dev/null
  apt-get -o APT::Sandbox::User=root update -qq
  apt-get clean
'
echo "nameserver 10.0.2.3" >"$root/etc/resolv.conf"
cp "$root"/boot/vmlinuz-* "$out/vmlinuz"
cp "$root"/boot/initrd.img-* "$out/initrd.img"

rm -f "$out/disk.raw"
mkfs.ext4 -q -F -L root -d "$root" "$out/disk.raw" "$disk_size"
qemu-img convert -O qcow2 "$out/disk.raw" "$out/disk.qcow2.new"
mv "$out/disk.qcow2.new" "$out/disk.qcow2"
echo "$inputs" >"$out/inputs"
echo "built vm image $out/disk.qcow2 in $((SECONDS - start))s"
