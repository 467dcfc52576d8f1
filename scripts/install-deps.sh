#!/usr/bin/env bash
# Installs the Debian packages Berth builds and tests with. Idempotent; needs root.
set -euo pipefail
packages=(libarchive-dev libsqlite3-dev libpq-dev postgresql libssl-dev libzstd-dev libisal-dev libseccomp-dev libcap-dev runc busybox-static tini iproute2 nftables pkg-config procps libcrypt-dev skopeo docker-registry openssl podman docker-compose docker.io buildah)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # docker.io's maintainer scripts start dockerd with its defaults (host firewall rules,
  # ip_forward, a docker0 bridge) unless policy-rc.d says no; the tests start their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
python3 -c 'import docker, pytest, pexpect, bcrypt, cryptography' 2>/dev/null || pip install -q docker pytest pexpect bcrypt cryptography
