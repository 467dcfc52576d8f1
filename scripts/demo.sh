#!/usr/bin/env bash
# Sets Berth up on this machine and runs a container: installs the Debian packages it needs,
# builds release binaries, installs them in /usr/local/bin, starts berthd in the background,
# makes a busybox image from Debian's busybox-static (no registry needed) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --static-swift-stdlib
bin=$(swift build -c release --show-bin-path)
# The per-container monitor is linked fully static (~0.35 MiB per container instead of ~0.75),
# and so is the client, which then starts ~1 ms sooner (no dynamic relocation).
swift build -c release --product berth-monitor --scratch-path .build-static -Xswiftc -static-executable
swift build -c release --product berth --scratch-path .build-static -Xswiftc -static-executable
static=$(swift build -c release --scratch-path .build-static --show-bin-path)
# berth-registry (the registry server `berth registry serve` runs) goes beside berth.
install -m 0755 "$static/berth" "$bin/berthd" "$bin/berth-runtime" "$static/berth-monitor" "$bin/berth-registry" /usr/local/bin/
if ! berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup berthd >/var/log/berthd.log 2>&1 &
  for _ in $(seq 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
fi
if ! berth image inspect busybox:latest >/dev/null 2>&1; then
  tarball=$(mktemp --suffix=.tar)
  bash scripts/make-busybox-rootfs.sh "$tarball"
  berth import -c 'CMD ["sh"]' "$tarball" busybox:latest
  rm -f "$tarball"
fi
berth run --rm busybox sh -c 'echo "Hello from a Berth container: $(hostname), pid $$, $(id)"'
