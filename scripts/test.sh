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

# The fuzz smoke: every libFuzzer target of Fuzz/AirlockFuzz for AIRLOCK_FUZZ_SECONDS each (default 10; 0 skips
# it). Its own build (address sanitizer, release, .build-fuzz) takes ~3.5 min from scratch on the 2-core VM.
if [ "${AIRLOCK_FUZZ_SECONDS:-10}" != 0 ]; then
    echo "==> fuzzing"
    bash scripts/fuzz.sh "${AIRLOCK_FUZZ_SECONDS:-10}"
fi
