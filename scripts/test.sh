#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every Airlock test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

# Idempotent: on a machine that has everything, apt-get only confirms it.
bash scripts/install-deps.sh

# Static checks first (seconds): the repository's .swift-format in strict mode, no dependency loop between the folders
# of any module, no function over ~80 lines without a one-line reason.
echo "==> format and structure checks"
bash scripts/format-lint.sh Sources Tests Benchmarks Fuzz/AirlockFuzz/Sources Package.swift
for module in Sources/*/; do bash scripts/folder-deps.sh "$module" >/dev/null; done
python3 scripts/long-functions.py Sources

echo "==> building"
swift build --build-tests

echo "==> testing"
swift test --skip-build

# The fuzz smoke: every libFuzzer target of Fuzz/AirlockFuzz, 20,000 inputs each from a fixed seed (reproducible:
# the same commit gives the same result on any machine), at most AIRLOCK_FUZZ_SECONDS each (default 60; 0 skips it).
# Its own build (address sanitizer, release, .build-fuzz) takes ~3.5 min from scratch on the 2-core VM. Longer,
# exploring runs: scripts/fuzz.sh SECONDS.
if [ "${AIRLOCK_FUZZ_SECONDS:-60}" != 0 ]; then
    echo "==> fuzzing"
    AIRLOCK_FUZZ_RUNS="${AIRLOCK_FUZZ_RUNS:-20000}" AIRLOCK_FUZZ_SEED="${AIRLOCK_FUZZ_SEED:-1}" \
        bash scripts/fuzz.sh "${AIRLOCK_FUZZ_SECONDS:-60}"
fi
