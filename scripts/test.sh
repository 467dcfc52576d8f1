#!/usr/bin/env bash
# Berth's whole test suite: installs what the tests need, builds, runs the Swift unit tests and
# the fuzz targets for a short while (10 s each, AddressSanitizer on), then the end-to-end
# suites (runtime, monitor, engine through the docker CLI and docker-py, fuzz regressions).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build
swift test
bash scripts/fuzz.sh 10
python3 -m pytest tests -q -p no:cacheprovider
