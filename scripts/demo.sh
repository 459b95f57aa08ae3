#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs Airlock on its embedded default: the demo policy in front of a
# built-in stand-in vendor. Extra arguments go to `airlock serve` (for example --demo-once).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

bash scripts/install-deps.sh

echo "==> building airlock"
swift build --product airlock
exec .build/debug/airlock serve "$@"
