#!/bin/sh
# The certificate store Squid's helper signs re-issued server certificates into, then Squid in
# the foreground (-N), so the container lives as long as Squid.
set -eu
rm -rf /var/lib/squid/ssl_db
mkdir -p /var/lib/squid
/usr/lib/squid/security_file_certgen -c -s /var/lib/squid/ssl_db -M 4MB
chown -R proxy:proxy /var/lib/squid/ssl_db
exec /usr/sbin/squid -N -f /etc/squid/squid.conf
