#!/bin/sh
# What RunscNetworkBug needs: whether runsc is installed and its version line (else the release
# apt would install), and whether a fresh network namespace shows net.core.rmem_default (kernels
# that hide it break the netstack of runsc releases before gVisor's fix).
if command -v runsc >/dev/null 2>&1; then
  echo installed
  runsc --version 2>/dev/null | head -n1
else
  echo absent
  apt-cache policy runsc 2>/dev/null | grep -m1 Candidate
fi
if unshare -n sh -c 'test -e /proc/sys/net/core/rmem_default' 2>/dev/null; then
  echo rmem_visible
else
  echo rmem_hidden
fi
exit 0
