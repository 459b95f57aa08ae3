#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every Airlock test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

# Idempotent: on a machine that has everything, apt-get only confirms it.
bash scripts/install-deps.sh

echo "==> building"
swift build --build-tests

echo "==> testing"
swift test --skip-build
