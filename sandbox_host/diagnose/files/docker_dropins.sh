#!/bin/sh
# docker.service drop-ins (read-only): for each file, "##file PATH", "##owned" when the deploy
# wrote it (its header says "Managed by sandbox-host"), and its Environment lines.
# Always exits 0; prints nothing when there is no drop-in directory.
for f in /etc/systemd/system/docker.service.d/*.conf /run/systemd/system/docker.service.d/*.conf; do
  [ -r "$f" ] || continue
  echo "##file $f"
  if grep -q 'Managed by sandbox-host' "$f"; then echo '##owned'; fi
  grep -i -E '^[[:space:]]*(Environment|EnvironmentFile)[[:space:]]*=' "$f" || true
done
true
