#!/usr/bin/env bash
# Berth's whole test suite: installs what the tests need, builds, runs the Swift unit tests and
# the end-to-end suites (runtime, monitor, engine through the docker CLI and docker-py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build
swift test
python3 -m pytest tests -q -p no:cacheprovider
