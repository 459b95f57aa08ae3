#!/usr/bin/env bash
# Lints Swift sources with the repository's .swift-format in strict mode (any finding fails).
#   scripts/format-lint.sh [DIRECTORY...]   (default: Sources Tests Benchmarks)
# Exit status: 0 clean, 1 findings, 2 swift-format missing. Prints one line per finding and a count at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
swift_bin="${SWIFT:-swift}"
if ! "$swift_bin" format --version >/dev/null 2>&1; then
    echo "format-lint: 'swift format' not found (it ships with the Swift toolchain)" >&2
    exit 2
fi
if [ "$#" -eq 0 ]; then set -- Sources Tests Benchmarks; fi
for path in "$@"; do
    if [ ! -e "$path" ]; then
        echo "format-lint: $path does not exist" >&2
        exit 2
    fi
done
findings=$(mktemp)
trap 'rm -f "$findings"' EXIT
status=0
"$swift_bin" format lint --strict --recursive --parallel --configuration .swift-format "$@" 2>"$findings" || status=$?
cat "$findings"
count=$(grep -c ': \(warning\|error\):' "$findings" || true)
echo "format-lint: $count finding(s) in $*"
if [ "$status" -ne 0 ] || [ "$count" -ne 0 ]; then exit 1; fi
