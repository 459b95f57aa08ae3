#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/AirlockFuzz (address sanitizer, release) and runs each for a bounded time,
# seeded from Fuzz/corpus/<target>/. Prints the executions per target and any crash; exits non-zero on a crash.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]      (default: 10 s each, every target)
#
# New inputs the fuzzer finds go to .build-fuzz/corpus/<target>/ (kept between runs, never committed); a crashing
# input goes to .build-fuzz/crashes/<target>/ and its log to .build-fuzz/logs/<target>.log. Reproduce one with
#   .build-fuzz/release/<target> <crash-file>
# AIRLOCK_FUZZ_JOBS sets the build's job count (default: SwiftPM's). AIRLOCK_FUZZ_RUNS=N AIRLOCK_FUZZ_SEED=S make a
# reproducible run (the test command's smoke): N inputs per target from seed S, from the committed seeds only (a fresh
# corpus directory), so the same commit gives the same result on any machine; the seconds bound still applies.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

seconds="${1:-10}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(fuzz-json fuzz-multipart fuzz-form fuzz-compression fuzz-policy)
fi

build=(swift build --package-path Fuzz/AirlockFuzz --scratch-path .build-fuzz -c release
    --sanitize fuzzer --sanitize address ${AIRLOCK_FUZZ_JOBS:+-j "$AIRLOCK_FUZZ_JOBS"})
echo "==> building fuzz targets"
"${build[@]}"
bin="$("${build[@]}" --show-bin-path)"

# Leaks in the toolchain's libraries, not Airlock's, are listed in Fuzz/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Swift's own crash backtracer reads memory the address sanitizer then reports as a second, unrelated error.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

failed=0
summary=()
for target in "${targets[@]}"; do
    seeds="Fuzz/corpus/$target"
    [ -d "$seeds" ] || { echo "no seed corpus $seeds" >&2; exit 2; }
    work=".build-fuzz/corpus/$target"
    bounds=(-max_total_time="$seconds")
    if [ -n "${AIRLOCK_FUZZ_RUNS:-}" ]; then
        work="$(mktemp -d)"
        bounds+=(-runs="$AIRLOCK_FUZZ_RUNS" -seed="${AIRLOCK_FUZZ_SEED:-1}")
    fi
    crashes=".build-fuzz/crashes/$target"
    log=".build-fuzz/logs/$target.log"
    mkdir -p "$work" "$crashes" "$(dirname "$log")"
    echo "==> fuzzing $target for ${seconds}s"
    status=0
    # The first corpus directory receives new inputs; the committed seeds are only read. -timeout: an input that
    # takes 10 s is a hang, reported as a crash.
    "$bin/$target" "$work" "$seeds" "${bounds[@]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || status=$?
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    found="$(find "$crashes" -type f | wc -l)"
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
        failed=1
        summary+=("$(printf '%-18s %12s executions  CRASH (exit %s, %s input(s) in %s)' \
            "$target" "${executions:-?}" "$status" "$found" "$crashes")")
        grep -E 'ERROR|invariant|Fatal error|SUMMARY|Test unit written' "$log" | head -20 || true
    else
        summary+=("$(printf '%-18s %12s executions  0 crashes' "$target" "${executions:-?}")")
    fi
done

echo "==> fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
