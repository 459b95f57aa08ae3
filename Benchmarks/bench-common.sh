# Shared by the benchmark scripts (sourced, not run): a scratch directory with the servers started in it cleaned up on
# exit, loopback ports, and the release binaries.

# bench_workdir NAME: a scratch directory in $work; every pid appended to $pids is killed on exit.
bench_workdir() {
    work="$(mktemp -d "/tmp/$1.XXXXXX")"
    pids=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_port PORT [TENTHS]: until something listens on PORT (default 30 s), or exit 1.
wait_port() {
    for _ in $(seq 1 "${2:-300}"); do
        if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "error: nothing listens on port $1" >&2
    exit 1
}

# $AIRLOCK and $BENCH: AIRLOCK_BIN / BENCH_BIN when both are given (copies kept for a before/after), else release
# builds of `airlock` and `airlock-redaction-bench`.
bench_binaries() {
    if [[ -z "${AIRLOCK_BIN:-}" || -z "${BENCH_BIN:-}" ]]; then
        echo "==> building airlock and airlock-redaction-bench (release)"
        swift build -c release -j 1 --product airlock >/dev/null
        swift build -c release -j 1 --product airlock-redaction-bench >/dev/null
    fi
    AIRLOCK="$(realpath "${AIRLOCK_BIN:-.build/release/airlock}")"
    BENCH="$(realpath "${BENCH_BIN:-.build/release/airlock-redaction-bench}")"
}
