#!/bin/sh
# A minimal Debian root filesystem from a Debian mirror, the one debootstrap recipe of the project
# (the deploy's images.base_image_debootstrap, scripts/build-base-image.sh, molecule/vm).
#   debootstrap.sh image IMAGE SUITE [MIRROR [PROXY_ENV]]
#                                                      docker import it as IMAGE
#   debootstrap.sh root DIR SUITE [MIRROR [PACKAGES]]  into DIR (PACKAGES: debootstrap --include)
#   debootstrap.sh mirror                              print the mirror an empty MIRROR means
# debootstrap --variant=minbase; apt in the result uses MIRROR and keeps no package lists. An
# empty MIRROR: the Debian mirror this machine's apt uses (one-line or deb822 sources), else
# Debian's CDN. debootstrap is installed when missing. PROXY_ENV: a file of NAME=value lines (the
# deploy's build proxy file, root-only) whose http(s)_proxy/no_proxy debootstrap's downloads use
# (a host that reaches the mirror only through a proxy); ignored when absent.
set -eu

this_machines_mirror() {
  found=$({ grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
    | grep -oE 'https?://[^ ]+' | head -n1)
  found=${found:-http://deb.debian.org/debian}
  echo "${found%/}"
}

# debootstrap SUITE DIR MIRROR [PACKAGES]: its log is shown only when it fails.
bootstrap() {
  command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  log=$(mktemp /var/tmp/debootstrap-log.XXXXXX)
  if ! debootstrap --variant=minbase ${4:+--include="$4"} "$1" "$2" "$3" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  echo "deb $3 $1 main" >"$2/etc/apt/sources.list"
  rm -rf "$2"/var/lib/apt/lists/* "$2"/var/cache/apt/*.bin
}

mode=${1:-}
case $mode in
  image)
    image=$2 suite=$3 mirror=${4:-$(this_machines_mirror)} proxy_env=${5:-}
    if [ -n "$proxy_env" ] && [ -r "$proxy_env" ]; then
      # The file is the deploy's own (roles/images render_proxy_env), as image builds read it.
      echo "debootstrap through the build proxy of $proxy_env" >&2
      set -a
      # shellcheck disable=SC1090
      . "$proxy_env"
      set +a
    fi
    root=$(mktemp -d /var/tmp/sandbox-host-base.XXXXXX)
    # --one-file-system: never descend into a /proc or /sys debootstrap left mounted after a failure.
    trap 'rm -rf --one-file-system "$root"' EXIT
    echo "debootstrap $suite from $mirror" >&2
    bootstrap "$suite" "$root" "$mirror"
    tar -C "$root" -c . | docker import - "$image" >/dev/null
    ;;
  root)
    root=$2 suite=$3 mirror=${4:-$(this_machines_mirror)}
    echo "debootstrap $suite from $mirror" >&2
    bootstrap "$suite" "$root" "$mirror" "${5:-}"
    ;;
  mirror)
    this_machines_mirror
    ;;
  *)
    echo "usage: $0 image IMAGE SUITE [MIRROR [PROXY_ENV]] | root DIR SUITE [MIRROR [PACKAGES]] | mirror" >&2
    exit 2
    ;;
esac
