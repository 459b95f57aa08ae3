#!/usr/bin/env bash
# Asset gateway throughput for text files, next to the proxy's (a measurement, not a test).
#
# One Airlock (release build, Policies/lab.yaml, egress log on) with an `assets:` section, nginx as the lab's file
# server (TLS, keep-alive) and nginx as the vendor's upstream. wrk measures, in one run:
#   1. the proxy: 4 KB text/plain POSTs through Airlock to the upstream (inspected, recorded, forwarded);
#   2. the gateway: GETs of one gateway URL for a 4 KB text file (token opened and checked, revocation list
#      stat'ed, the file fetched from the file server over a fresh verified TLS connection, inspection reused by
#      content hash after the first fetch, the decision and the served bytes recorded before answering).
# The token is minted the way a vendor gets it: a Scale-like task naming the file's URL goes through Airlock to a
# echo server, and the gateway URL is read from what it received.
#
# Environment: DURATION (seconds per run, default 10), CONNECTIONS (default 32), THREADS (wrk threads, default 2),
# AIRLOCK_BIN (measure that binary instead of building a release one).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash Benchmarks/machine.sh
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
if [[ -n "${AIRLOCK_BIN:-}" ]]; then
    AIRLOCK="$(realpath "$AIRLOCK_BIN")"
else
    echo "==> building airlock (release)"
    swift build -c release -j 1 --scratch-path .build-release --product airlock >/dev/null
    AIRLOCK="$PWD/.build-release/release/airlock"
fi

source Benchmarks/bench-common.sh
bench_workdir airlock-asset-bench
"$AIRLOCK" certs init --dir "$work/certs" >/dev/null
POLICY="$(realpath Policies/lab.yaml)"
UPSTREAM_PORT="$(free_port)"; FILE_PORT="$(free_port)"; ECHO_PORT="$(free_port)"
AIRLOCK_PORT="$(free_port)"; ASSET_PORT="$(free_port)"

# --- the 4 KB text file, and the same text as the proxy's request body ---------------------------------------------
mkdir -p "$work/files/datasets" "$work/upstream" "$work/fileserver"
python3 - "$work/files/datasets/notes.txt" <<'PY'
import sys
line = "Run notes: the eval of the new checkpoint looks good, latency within budget; lorem ipsum dolor sit amet.\n"
text = (line * 64)[:4096]
open(sys.argv[1], "w").write(text)
PY
chmod 711 "$work" "$work/files" "$work/files/datasets" && chmod 644 "$work/files/datasets/notes.txt"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "text/plain"\nwrk.body = io.open("%s"):read("*a")\n' \
    "$work/files/datasets/notes.txt" >"$work/post.lua"

# --- nginx: the vendor's upstream (fixed JSON answer) and the lab's file server ------------------------------------
nginx_conf() { # dir port location-body
    cat > "$1/nginx.conf" <<CONF
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_certificate $work/certs/airlock.crt;
        ssl_certificate_key $work/certs/airlock.key;
        keepalive_requests 1000000;
        location / { $3 }
    }
}
CONF
    nginx -p "$1" -c "$1/nginx.conf" -g 'daemon off;' &
    pids+=($!)
}
nginx_conf "$work/upstream" "$UPSTREAM_PORT" "default_type application/json; return 200 '{\"id\":\"task_123\"}';"
nginx_conf "$work/fileserver" "$FILE_PORT" "root $work/files; default_type text/plain;"

# --- the echo server that shows what Airlock sent (to read the gateway URL from) -------------------------
python3 - "$ECHO_PORT" "$work/certs" "$work/minted.json" <<'PY' &
import http.server, ssl, sys
port, certs, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open(out, "wb").write(body)
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", port), Echo)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(certs + "/airlock.crt", certs + "/airlock.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
pids+=($!)

# --- Airlock --------------------------------------------------------------------------------------------------------
cat > "$work/airlock.yaml" <<CONF
listen:
  address: 127.0.0.1:$AIRLOCK_PORT
  tls: {certificate: certs/airlock.crt, key: certs/airlock.key}
limits:
  upstream_timeout_seconds: 60
vendors:
  - {name: bench, path_prefix: /bench, upstream: "https://localhost:$UPSTREAM_PORT", ca: certs/ca.crt,
     routes: ["POST /v1/*"], policy: $POLICY, pool: {max_connections: 128}}
  - {name: mint, path_prefix: /mint, upstream: "https://localhost:$ECHO_PORT", ca: certs/ca.crt,
     routes: ["POST /v1/*"], policy: $POLICY}
pseudonym_key: certs/pseudonym.key
audit:
  directory: audit
  signing_key: certs/audit-signing.key
assets:
  public_url: https://assets.bench.example.com
  listen: {address: 127.0.0.1:$ASSET_PORT, tls: {certificate: certs/airlock.crt, key: certs/airlock.key}}
  ca: certs/ca.crt
  addresses: [127.0.0.1/32]
  sources:
    - url: https://127.0.0.1:$FILE_PORT/datasets/
CONF
"$AIRLOCK" serve --config "$work/airlock.yaml" --log-level warning &
pids+=($!)
wait_port "$UPSTREAM_PORT"; wait_port "$FILE_PORT"; wait_port "$ECHO_PORT"; wait_port "$AIRLOCK_PORT"
wait_port "$ASSET_PORT"

# --- mint one gateway URL through the proxy, as a vendor receives it ------------------------------------------------
status="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/certs/ca.crt" -H 'content-type: application/json' \
    --data "{\"instruction\": \"Read the notes\", \"attachment\": \"https://127.0.0.1:$FILE_PORT/datasets/notes.txt\"}" \
    "https://127.0.0.1:$AIRLOCK_PORT/mint/v1/task")"
gateway="$(grep -o 'https://assets.bench.example.com/assets/[A-Za-z0-9._-]*' "$work/minted.json" || true)"
if [[ "$status" != "200" || -z "$gateway" ]]; then echo "error: no gateway URL minted ($status)" >&2; exit 1; fi
if grep -q "$FILE_PORT/datasets" "$work/minted.json"; then echo "error: the file's URL left" >&2; exit 1; fi
asset_url="https://127.0.0.1:$ASSET_PORT${gateway#https://assets.bench.example.com}"
served="$(curl -s --cacert "$work/certs/ca.crt" "$asset_url" | wc -c)"
if [[ "$served" != "4096" ]]; then echo "error: the gateway served $served bytes" >&2; exit 1; fi

run_wrk() { # url [script] -> "rps p50 p99 non2xx"
    local out
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency ${2:+-s "$2"} "$1")"
    echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out") $(awk '$1 == "50%" {print $2}' <<<"$out")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$out") $(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")"
}
echo "==> warming up"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$work/post.lua" "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$asset_url" >/dev/null
read -r p_rps p_p50 p_p99 p_err <<<"$(run_wrk "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks" "$work/post.lua")"
read -r g_rps g_p50 g_p99 g_err <<<"$(run_wrk "$asset_url")"
printf '%-44s %10s %9s %9s %8s\n' "4 KB text, $CONNECTIONS connections, ${DURATION}s" "req/s" "p50" "p99" "non-2xx"
printf '%-44s %10s %9s %9s %8s\n' "proxy: POST through Airlock (log on)" "$p_rps" "$p_p50" "$p_p99" "${p_err:-0}"
printf '%-44s %10s %9s %9s %8s\n' "gateway: GET <public>/assets/<token>" "$g_rps" "$g_p50" "$g_p99" "${g_err:-0}"
python3 -c "print(f'gateway / proxy: {float(\"$g_rps\") / float(\"$p_rps\") * 100:.0f}%')"
