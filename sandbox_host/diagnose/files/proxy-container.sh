#!/bin/sh
# The container at PROXY_IP on NETWORK (the egress proxy): its name and when it started, one line
# "NAME STARTED_AT" (RFC 3339); nothing when no container holds that address. Read-only.
#   proxy-container.sh NETWORK PROXY_IP
network=$1 proxy_ip=$2
docker network inspect --format '{{range $id, $c := .Containers}}{{$id}} {{$c.IPv4Address}}{{"\n"}}{{end}}' "$network" 2>/dev/null |
  while read -r id address; do
    if [ "${address%/*}" = "$proxy_ip" ]; then
      docker container inspect --format '{{.Name}} {{.State.StartedAt}}' "$id" 2>/dev/null | sed 's|^/||'
    fi
  done
exit 0
