#!/usr/bin/env bash
# Peak memory of the proxy with big bodies in flight (a measurement, not a test).
#
# A real `airlock serve` (release build) with one vendor, the in-memory benchmark's policy (1,000 terms, written as
# YAML by airlock-redaction-bench) and the egress log on; a stand-in vendor (nginx over TLS that reads each body in
# full before it answers: a proxy_pass to a `return 200` server). CONCURRENT curl processes (default 8) each upload
# one BODY_MIB (default 32) MiB JSON document of the benchmark's labeling tasks (sparse codenames, emails, roadmap
# quarters: every body is rewritten) at the same time; ROUNDS (default 2) such waves, one after the other. Every
# upload must be answered 200 (forwarded). Prints Airlock's resident memory idle (VmRSS after start) and its peak
# (VmHWM from /proc/PID/status) after each wave, the bytes in flight (CONCURRENT x body size) and peak / bytes in
# flight (target <= 2.5).
#
# Environment: CONCURRENT, BODY_MIB, ROUNDS, AUDIT (on|off, default on), AIRLOCK_BIN and BENCH_BIN (measure these
# binaries instead of building, e.g. copies kept for a before/after), HEAPTRACK=FILE (run Airlock under heaptrack,
# its data in FILE.zst: where the peak is allocated; figures under heaptrack are not the proxy's own),
# SKIP_DEPS=1 (do not run scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash Benchmarks/machine.sh
source Benchmarks/bench-common.sh

CONCURRENT="${CONCURRENT:-8}"
BODY_MIB="${BODY_MIB:-32}"
ROUNDS="${ROUNDS:-2}"
AUDIT="${AUDIT:-on}"
if [[ "${SKIP_DEPS:-0}" != "1" ]]; then AIRLOCK_BENCH=1 bash scripts/install-deps.sh >/dev/null; fi
bench_binaries

bench_workdir airlock-memory-bench
kib() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$2/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

"$AIRLOCK" certs init --dir "$work/certs" >/dev/null
AIRLOCK_BENCH_TERMS=1000 AIRLOCK_BENCH_WRITE="$work" "$BENCH" "$BODY_MIB" | grep '^wrote'
body="$work/document-1000.json"
body_bytes="$(stat -c %s "$body")"
VENDOR_PORT="$(free_port)"; INNER_PORT="$(free_port)"; AIRLOCK_PORT="$(free_port)"; ADMIN_PORT="$(free_port)"

# --- the stand-in vendor: nginx over TLS, reads each body in full (to a temp file), then answers --------------------
mkdir -p "$work/vendor/bodies" "$work/vendor/proxy"
chmod 711 "$work" "$work/vendor" && chmod 777 "$work/vendor/bodies" "$work/vendor/proxy" # nginx's workers are not root
cat >"$work/vendor/nginx.conf" <<CONF
worker_processes 1;
pid $work/vendor/nginx.pid;
error_log $work/vendor/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_max_body_size $((BODY_MIB * 2))m;
    client_body_temp_path $work/vendor/bodies;
    proxy_temp_path $work/vendor/proxy;
    server {
        listen 127.0.0.1:$VENDOR_PORT ssl;
        ssl_certificate $work/certs/airlock.crt;
        ssl_certificate_key $work/certs/airlock.key;
        location / { proxy_pass http://127.0.0.1:$INNER_PORT; }
    }
    server {
        listen 127.0.0.1:$INNER_PORT;
        location / { default_type application/json; return 200 '{"status":"queued"}'; }
    }
}
CONF
nginx -p "$work/vendor" -c "$work/vendor/nginx.conf" -g 'daemon off;' &
pids+=($!)

# --- Airlock --------------------------------------------------------------------------------------------------------
if [[ "$AUDIT" == "on" ]]; then AUDIT_ENABLED=true; else AUDIT_ENABLED=false; fi
cat >"$work/airlock.yaml" <<CONF
listen:
  address: 127.0.0.1:$AIRLOCK_PORT
  tls: {certificate: certs/airlock.crt, key: certs/airlock.key}
admin:
  address: 127.0.0.1:$ADMIN_PORT
limits:
  max_body_bytes: $((BODY_MIB * 2 * 1048576))
  upstream_timeout_seconds: 120
vendors:
  - name: bench
    path_prefix: /bench
    upstream: https://localhost:$VENDOR_PORT
    ca: certs/ca.crt
    routes: ["POST /v1/*"]
    policy: $work/policy-1000.yaml
pseudonym_key: certs/pseudonym.key
audit:
  enabled: $AUDIT_ENABLED
  directory: audit
  signing_key: certs/audit-signing.key
CONF
if [[ -n "${HEAPTRACK:-}" ]]; then
    heaptrack -o "$HEAPTRACK" "$AIRLOCK" serve --config "$work/airlock.yaml" --log-level warning &
else
    "$AIRLOCK" serve --config "$work/airlock.yaml" --log-level warning &
fi
pids+=($!)
wait_port "$VENDOR_PORT"; wait_port "$AIRLOCK_PORT"
AIRLOCK_PID="$(pgrep -n -f "serve --config $work/airlock.yaml" | head -1)"
idle_kib="$(kib VmRSS "$AIRLOCK_PID")"

echo "==> $CONCURRENT concurrent uploads of $body_bytes bytes, $ROUNDS waves; audit log $AUDIT"
printf '%-28s %10s\n' "airlock resident memory" "MiB"
printf '%-28s %10s\n' "idle (VmRSS after start)" "$(mib "$idle_kib")"
for round in $(seq 1 "$ROUNDS"); do
    uploads=()
    for i in $(seq 1 "$CONCURRENT"); do
        curl -s -k --http1.1 -o "$work/response-$round-$i" -w '%{http_code}\n' -X POST -H 'content-type: application/json' \
            -H 'Expect:' --data-binary @"$body" "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks" \
            >"$work/status-$round-$i" &
        uploads+=($!)
    done
    for pid in "${uploads[@]}"; do wait "$pid"; done
    for i in $(seq 1 "$CONCURRENT"); do
        if [[ "$(cat "$work/status-$round-$i")" != "200" ]]; then
            echo "error: upload $i of wave $round answered $(cat "$work/status-$round-$i"):" \
                "$(head -c 300 "$work/response-$round-$i")" >&2
            exit 1
        fi
    done
    printf '%-28s %10s\n' "peak after wave $round (VmHWM)" "$(mib "$(kib VmHWM "$AIRLOCK_PID")")"
done
peak_kib="$(kib VmHWM "$AIRLOCK_PID")"
python3 - "$peak_kib" "$idle_kib" "$body_bytes" "$CONCURRENT" <<'PY'
import sys
peak, idle = int(sys.argv[1]) * 1024, int(sys.argv[2]) * 1024
body, concurrent = int(sys.argv[3]), int(sys.argv[4])
flight = body * concurrent
print(f"\nbytes in flight: {concurrent} x {body:,} = {flight / 2**20:,.1f} MiB")
print(f"peak resident: {peak / 2**20:,.1f} MiB = {peak / flight:.2f}x the bytes in flight (target <= 2.5x); "
      f"above idle: {(peak - idle) / flight:.2f}x")
PY
