#!/bin/bash
# Test-host accounts for the laptop scenario: alice (sudo, no password) and bob.
set -e
id alice >/dev/null 2>&1 || useradd --uid 1000 --create-home --shell /bin/bash alice
id bob >/dev/null 2>&1 || useradd --uid 1001 --create-home --shell /bin/bash bob
echo 'alice ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/alice
chmod 0440 /etc/sudoers.d/alice
install -d -o alice -g alice -m 0700 /home/alice/.claude
printf '%s' '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-FAKE-ALICE", "refreshToken": "r-alice", "expiresAt": 1}}' > /home/alice/.claude/.credentials.json
chown alice:alice /home/alice/.claude/.credentials.json
chmod 0600 /home/alice/.claude/.credentials.json
