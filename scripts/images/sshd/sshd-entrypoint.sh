#!/bin/sh
# Starts sshd in the foreground with fresh host keys. SSH_AUTHORIZED_KEYS
# (public keys, one per line) is installed for root. Extra arguments go to
# sshd (`-o Port=2222`...).
set -eu
mkdir -p /run/sshd /root/.ssh
chmod 0755 /run/sshd
chmod 0700 /root/.ssh
ssh-keygen -A >/dev/null
if [ -n "${SSH_AUTHORIZED_KEYS:-}" ]; then
	printf '%s\n' "$SSH_AUTHORIZED_KEYS" >/root/.ssh/authorized_keys
	chmod 0600 /root/.ssh/authorized_keys
fi
exec /usr/sbin/sshd -D -e "$@"
