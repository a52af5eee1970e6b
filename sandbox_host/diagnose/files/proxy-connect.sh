#!/bin/bash
# Inside a probe container on the sandbox's network: does the egress proxy accept a connection,
# and what does it answer to CONNECT TARGET (the status line, '##status')?
#   proxy-connect.sh PROXY_IP PROXY_PORT TARGET TIMEOUT
# bash for /dev/tcp (images have no curl or nc). TIMEOUT: seconds to wait for the answer.
proxy_ip=$1 proxy_port=$2 target=$3 timeout=$4
# The marker after the attempt: bash's own "connect: Connection refused" stays outside the section.
if exec 3<>"/dev/tcp/$proxy_ip/$proxy_port"; then
  echo '##connect'; echo ok
else
  echo '##connect'; echo failed
  exit 0
fi
printf 'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$target" "$target" >&3
IFS= read -r -t "$timeout" line <&3
echo '##status'
echo "$line"
