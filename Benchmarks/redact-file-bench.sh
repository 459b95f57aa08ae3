#!/usr/bin/env bash
# `airlock redact FILE` against the in-memory engine benchmark (a measurement, not a test).
#
# The in-memory benchmark (airlock-redaction-bench) writes its policy as YAML and its corpus as one JSON document
# (AIRLOCK_BENCH_WRITE): a big one (BIG_MIB, default 64) and a small one (SMALL_MIB, default 1, the first tasks of the
# same stream). `airlock redact` runs on each RUNS times (alternately, output to a file); the best time of each gives
# the CLI's marginal throughput, which leaves out what does not grow with the file (process start, policy compile):
#     (bytes_big - bytes_small) / (t_big - t_small)
# printed beside the in-memory benchmark's redaction figure (best of 3 over 64 MiB of ~64 KiB bodies, same policy,
# same generator) and the ratio of the two. Wall clock is the figure; on a busy machine (the load average is printed)
# the CLI's CPU time (user + system) is printed beside it. With ONE_BODY=1 the in-memory figure is also taken on one
# BIG_MIB body (what the engine alone does with a document that size).
#
# Environment: TERMS (dictionary size, default 1000), BIG_MIB, SMALL_MIB, RUNS (default 5), AIRLOCK_BIN and BENCH_BIN
# (measure these binaries instead of building; e.g. copies kept for a before/after), ONE_BODY=1, SKIP_DEPS=1 (do not
# run scripts/install-deps.sh).
# Release builds only: figures from a debug build mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash Benchmarks/machine.sh
source Benchmarks/bench-common.sh

TERMS="${TERMS:-1000}"
BIG_MIB="${BIG_MIB:-64}"
SMALL_MIB="${SMALL_MIB:-1}"
RUNS="${RUNS:-5}"
if [[ "${SKIP_DEPS:-0}" != "1" ]]; then AIRLOCK_BENCH=1 bash scripts/install-deps.sh >/dev/null; fi
bench_binaries

work="$(mktemp -d /tmp/airlock-redact-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/big" "$work/small"
AIRLOCK_BENCH_TERMS="$TERMS" AIRLOCK_BENCH_WRITE="$work/big" "$BENCH" "$BIG_MIB" | grep '^wrote'
AIRLOCK_BENCH_TERMS="$TERMS" AIRLOCK_BENCH_WRITE="$work/small" "$BENCH" "$SMALL_MIB" | grep '^wrote'
policy="$work/big/policy-$TERMS.yaml"
big="$work/big/document-$TERMS.json"
small="$work/small/document-$TERMS.json"
head -c 32 /dev/urandom | base64 >"$work/pseudonym.key"
chmod 600 "$work/pseudonym.key"   # key files others can read are refused

redact() { # file -> "wall_ns cpu_ns" of one `airlock redact` run (it must forward: exit 0)
    local start end
    start="$(date +%s%N)"
    /usr/bin/time -f '%U %S' -o "$work/cpu.txt" "$AIRLOCK" redact --policy "$policy" --key-file "$work/pseudonym.key" \
        --vendor bench "$1" >"$work/out.json" 2>"$work/summary.txt"
    end="$(date +%s%N)"
    echo "$((end - start)) $(awk '{printf "%.0f", ($1 + $2) * 1e9}' "$work/cpu.txt")"
}

redact "$big" >/dev/null # warm the page cache and the binary
if ! grep -q ' x[0-9]' "$work/summary.txt"; then
    echo "error: airlock redact found nothing in the document: the benchmark would not redact" >&2
    exit 1
fi
echo "==> $(grep -c ' x[0-9]' "$work/summary.txt") rules matched in the big document; $RUNS runs each;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/big.times"
: >"$work/small.times"
for _ in $(seq 1 "$RUNS"); do
    redact "$big" >>"$work/big.times"
    redact "$small" >>"$work/small.times"
done
bytes_big="$(stat -c %s "$big")"
bytes_small="$(stat -c %s "$small")"

echo "==> in-memory benchmark: $TERMS terms, 64 MiB of ~64 KiB bodies, best of 3"
memory_mbs="$(AIRLOCK_BENCH_TERMS="$TERMS" AIRLOCK_BENCH_ONLY=full "$BENCH" 64 3 | awk -v t="$TERMS" '$1 == t {print $8}')"
# The same in CPU time, as the CLI's is taken: the process's user + system time with 1 and with 4 rounds of the loop
# (corpus, compile and warm-up cancel out), over the 3 rounds' bytes (64 MiB each, to within 0.1%).
in_memory_cpu() {
    /usr/bin/time -f '%U %S' -o "$work/bench-cpu.txt" env AIRLOCK_BENCH_TERMS="$TERMS" AIRLOCK_BENCH_ONLY=full \
        "$BENCH" 64 "$1" >/dev/null
    awk '{printf "%.0f", ($1 + $2) * 1e9}' "$work/bench-cpu.txt"
}
memory_cpu_ns=$(($(in_memory_cpu 4) - $(in_memory_cpu 1)))
one_body_mbs=""
if [[ "${ONE_BODY:-0}" == "1" ]]; then
    one_body_mbs="$(AIRLOCK_BENCH_TERMS="$TERMS" AIRLOCK_BENCH_ONLY=full AIRLOCK_BENCH_BODY_KIB=$((BIG_MIB * 1024)) \
        "$BENCH" "$BIG_MIB" 3 | awk -v t="$TERMS" '$1 == t {print $8}')"
fi

python3 - "$bytes_big" "$bytes_small" "$work/big.times" "$work/small.times" "$memory_mbs" "$one_body_mbs" \
    "$memory_cpu_ns" <<'PY'
import sys
bytes_big, bytes_small = int(sys.argv[1]), int(sys.argv[2])
big = [tuple(int(v) for v in line.split()) for line in open(sys.argv[3])]
small = [tuple(int(v) for v in line.split()) for line in open(sys.argv[4])]
memory = float(sys.argv[5])
print(f"\n{'airlock redact (best of runs)':34} {'wall ms':>9} {'CPU ms':>9}")
for name, size, runs in (("big", bytes_big, big), ("small", bytes_small, small)):
    print(f"{name + f' document, {size:,} bytes':34} {min(r[0] for r in runs) / 1e6:9.1f} {min(r[1] for r in runs) / 1e6:9.1f}")
def marginal(i):
    return (bytes_big - bytes_small) / ((min(r[i] for r in big) - min(r[i] for r in small)) / 1e9) / 1e6
wall, cpu = marginal(0), marginal(1)
print(f"marginal throughput of airlock redact: {wall:,.0f} MB/s (wall clock); {cpu:,.0f} MB/s (CPU time)")
memory_cpu = 3 * (64 << 20) / (int(sys.argv[7]) / 1e9) / 1e6
print(f"in-memory redaction (airlock-redaction-bench): {memory:,.0f} MB/s (wall clock); {memory_cpu:,.0f} MB/s (CPU time)")
if sys.argv[6]:
    print(f"in-memory redaction of one {bytes_big >> 20} MiB body: {float(sys.argv[6]):,.0f} MB/s (wall clock)")
print(f"ratio: {wall / memory * 100:.0f}% of the in-memory benchmark by wall clock, {cpu / memory_cpu * 100:.0f}% by CPU "
      "time (target >= 80%)")
PY
