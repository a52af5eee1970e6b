#!/bin/sh
# sandbox-host: runsc in Colima's VM (a colima.yaml provision script, run as root at every VM
# start; Colima's Docker config registers /usr/local/bin/runsc as the runsc runtime).
# Installs runsc once, checked against the release's sha512. RELEASE_URL is set by the deploy.
set -eu
RELEASE_URL=${RELEASE_URL:?}
[ -x /usr/local/bin/runsc ] && exit 0
arch=$(uname -m)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
wget -q "$RELEASE_URL/$arch/runsc" "$RELEASE_URL/$arch/runsc.sha512"
sha512sum -c runsc.sha512
install -m 0755 runsc /usr/local/bin/runsc
