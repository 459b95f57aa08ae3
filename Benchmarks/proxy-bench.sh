#!/usr/bin/env bash
# Proxy throughput benchmark (a measurement, not a test).
#
# Drives wrk with 4 KB JSON POSTs over keep-alive TLS, in one run:
#   1. through Airlock (release build)            -> upstream
#   2. through nginx as a plain TLS reverse proxy -> the same upstream
# Both proxies verify the upstream's certificate and keep upstream connections alive. Prints the machine, commit and
# date, then req/s, p50 and p99 latency for each, and Airlock's share of nginx's req/s.
#
# MODE=realistic (the default, the headline figure): each task carries codenames, a model name, a staff email and a
# roadmap quarter next to "launch", so Airlock pseudonymises and redacts on the way out; the upstream echoes the task
# as it received it (tokens and placeholders: what `airlock redact` forwards for it), so Airlock restores the
# pseudonyms on the way back; the egress log is on. MODE=plain: a body the policy matches nothing in, a fixed 36-byte
# reply and the log off: the proxy's own overhead, without redaction or restoration. MODE=forward: the realistic load
# through Airlock's reverse listener and through its forward listener (HTTPS_PROXY-style CONNECT to a listed host,
# interception with a minted leaf), in the same run and the same process, driven by curl --parallel (wrk cannot use a
# proxy) over keep-alive connections, then with a new connection per request (TLS sessions resumed), then the cost of
# minting a leaf for a new host; nginx is not measured in this mode (REQUESTS, default 20000, per run; PARALLEL,
# default 32, connections).
#
# Environment: DURATION (seconds per run, default 10), CONNECTIONS (default 64), THREADS (wrk threads, default 2),
# WORKERS (proxy worker threads/processes, default the number of cores), POLICY (a policy file for Airlock's vendor,
# default Policies/lab.yaml; `none` forwards only contentless requests), AUDIT (on|off: the egress log with fsync per
# group commit; default on in realistic mode, off in plain mode).
# Options for profiling the audit log (all off by default):
#   VARY_BODY=1    every request carries a different body (a counter spelled in letters inside the payload), so the
#                  audit log's body store cannot deduplicate; same size, same shape, nothing the policy matches.
#   PERF_STAT=1    `perf stat` on Airlock (and on nginx's proxy workers) during their measured runs: instructions
#                  (where the CPU counts them), CPU time, context switches and system calls per request.
#   SYSCALLS=1     with PERF_STAT=1, also the count per request of each system call the proxy path makes.
#   PERF_RECORD=F  `perf record -g` on Airlock during its measured run, into file F (for `perf report -i F`).
#   CALL_GRAPH=M   perf record's call-graph method (default fp; `dwarf,16384` unwinds Swift frames without pointers).
#   ONLY_AIRLOCK=1 skip the nginx comparison run (its row and the ratio are not printed).
#   SKIP_DEPS=1    do not run scripts/install-deps.sh (the packages are known to be there).
#   COMMIT_DELAY_MS=N  the audit log's group-commit window (audit.commit_delay_ms; default: Airlock's default).
#   AIRLOCK_BIN=F  measure the airlock binary F instead of building one (e.g. a copy kept for a before/after).
#   CANDIDATE=F    give the vendor `policy_candidate: F` (evaluated beside POLICY on every request, never deciding);
#                  the mean inspection time per request (airlock_inspection_seconds) is printed either way.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash Benchmarks/machine.sh
MODE="${MODE:-realistic}"
if [[ "$MODE" != "realistic" && "$MODE" != "plain" && "$MODE" != "forward" ]]; then
    echo "error: MODE is realistic, plain or forward" >&2; exit 64
fi
FORWARD=0
if [[ "$MODE" == "forward" ]]; then FORWARD=1; MODE=realistic; fi

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
WORKERS="${WORKERS:-$(nproc)}"

VARY_BODY="${VARY_BODY:-0}"
PERF_STAT="${PERF_STAT:-0}"
SYSCALLS="${SYSCALLS:-0}"
PERF_RECORD="${PERF_RECORD:-}"
ONLY_AIRLOCK="${ONLY_AIRLOCK:-0}"
if [[ "${SKIP_DEPS:-0}" != "1" ]]; then AIRLOCK_BENCH=1 bash scripts/install-deps.sh; fi
if [[ -n "${AIRLOCK_BIN:-}" ]]; then
    AIRLOCK="$(realpath "$AIRLOCK_BIN")"
else
    echo "==> building airlock (release)"
    swift build -c release --scratch-path .build-release --product airlock >/dev/null
    AIRLOCK="$PWD/.build-release/release/airlock"
fi

source Benchmarks/bench-common.sh
bench_workdir airlock-bench

"$AIRLOCK" certs init --dir "$work/certs" --forward-host bench.example >/dev/null
POLICY="${POLICY:-Policies/lab.yaml}"
if [[ "$POLICY" != "none" ]]; then POLICY="$(realpath "$POLICY")"; fi
CANDIDATE="${CANDIDATE:-}"
if [[ -n "$CANDIDATE" ]]; then CANDIDATE="$(realpath "$CANDIDATE")"; fi
if [[ "$MODE" == "realistic" ]]; then AUDIT="${AUDIT:-on}"; else AUDIT="${AUDIT:-off}"; fi
if [[ "$AUDIT" == "on" ]]; then AUDIT_ENABLED=true; else AUDIT_ENABLED=false; fi
UPSTREAM_PORT="$(free_port)"; NGINX_PORT="$(free_port)"; AIRLOCK_PORT="$(free_port)"; ADMIN_PORT="$(free_port)"

# --- the load: 4 KB JSON labeling tasks ----------------------------------------------------------------------------
python3 - "$work/post.lua" "$VARY_BODY" "$MODE" "$work/task.json" <<'PY'
import json, sys
if sys.argv[3] == "realistic":
    # A labeling task as a lab sends it: codenames and a model name (pseudonymised), a staff email (pseudonymised),
    # a roadmap quarter next to "launch" (redacted), the rest ordinary text.
    task = {"project": "Nightingale", "type": "textcollection",
            "instruction": "Compare the answers of Project Falcon and Tidewater before the Q3 2026 launch; "
                           "questions to jane.doe@lab.example.com.",
            "attachments": [{"type": "text", "content": "Skylark Mini and Kestrel Coder answered. "
                             + "lorem ipsum dolor sit amet " * 130}],
            "metadata": {"batch": "b-001", "owner": "ana@research.example.com"}}
else:
    task = {"project": "bench", "type": "textcollection", "instruction": "Rate the two responses.",
            "attachments": [{"type": "text", "content": "lorem ipsum dolor sit amet " * 120}],
            "metadata": {"batch": "b-001", "source": "benchmark"}}
if sys.argv[3] == "realistic":
    # The task itself is the body (an object, as labeling APIs take it), its text cut to fit 4 KB.
    over = len(json.dumps(task)) - 4096
    if over > 0:
        task["attachments"][0]["content"] = task["attachments"][0]["content"][:-over]
    body = json.dumps(task)
else:
    body = json.dumps(task)[:4096]
    body = body + " " * (4096 - len(body)) if len(body) < 4096 else body
    body = json.dumps({"payload": body[:4000]})
body = body + " " * (4096 - len(body))
assert len(body) == 4096
open(sys.argv[4], "w").write(body)
lua = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body) + "\n"
if sys.argv[2] == "1":
    # 12 letters a-p spell (wrk thread, request counter) in base 16 over the start of the lorem ipsum text.
    at = body.index("lorem")
    lua += f'''local prefix, suffix = {json.dumps(body[:at])}, {json.dumps(body[at + 12:])}
local threads, counter = 0, 0
thread_id = 0  -- a global: setup() sets it in each thread's own state
function setup(thread) thread:set("thread_id", threads); threads = threads + 1 end
function request()
    counter = counter + 1
    local n, letters = thread_id * 4294967296 + counter, {{}}
    for i = 12, 1, -1 do letters[i] = string.char(97 + n % 16); n = math.floor(n / 16) end
    return wrk.format(nil, nil, nil, prefix .. table.concat(letters) .. suffix)
end
'''
open(sys.argv[1], "w").write(lua)
PY

# The upstream's reply. Realistic: the task as the vendor receives it from Airlock (what `airlock redact` forwards for
# it with this key and vendor name), echoed back, so every token in it is restored on the way to the lab. Plain: a
# fixed 36-byte JSON body.
if [[ "$MODE" == "realistic" ]]; then
    "$AIRLOCK" redact --policy "$POLICY" --key-file "$work/certs/pseudonym.key" --vendor bench \
        --content-type application/json "$work/task.json" >"$work/reply.json" 2>/dev/null
else
    printf '%s' '{"id":"task_123","status":"pending"}' >"$work/reply.json"
fi
# Plain: nginx's `return`. Realistic: the file (longer than an nginx string may be), served to the POST through the
# 405 a static file answers a POST with, turned into 200 and the file.
if [[ "$MODE" == "realistic" ]]; then
    chmod 711 "$work" && chmod 644 "$work/reply.json"  # nginx's workers (not root) read it
    UPSTREAM_REPLY="root $work; try_files /reply.json =404; error_page 405 =200 /reply.json;"
else
    UPSTREAM_REPLY="return 200 '$(cat "$work/reply.json")';"
fi

# --- upstream: nginx answering JSON over TLS ----------------------------------------------------------------------
mkdir -p "$work/upstream" "$work/proxy"
cat > "$work/upstream/nginx.conf" <<CONF
worker_processes 1;
pid $work/upstream/nginx.pid;
error_log $work/upstream/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$UPSTREAM_PORT ssl;
        ssl_certificate $work/certs/airlock.crt;
        ssl_certificate_key $work/certs/airlock.key;
        keepalive_requests 1000000;
        location / {
            default_type application/json;
            $UPSTREAM_REPLY
        }
    }
}
CONF
nginx -p "$work/upstream" -c "$work/upstream/nginx.conf" -g 'daemon off;' &
pids+=($!)

# --- nginx as a plain TLS reverse proxy ----------------------------------------------------------------------------
cat > "$work/proxy/nginx.conf" <<CONF
worker_processes $WORKERS;
pid $work/proxy/nginx.pid;
error_log $work/proxy/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_buffer_size 64k;
    upstream vendor {
        server 127.0.0.1:$UPSTREAM_PORT;
        keepalive 128;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $work/certs/airlock.crt;
        ssl_certificate_key $work/certs/airlock.key;
        keepalive_requests 1000000;
        location / {
            proxy_pass https://vendor;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host localhost;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $work/certs/ca.crt;
            proxy_ssl_name localhost;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;
        }
    }
}
CONF
nginx -p "$work/proxy" -c "$work/proxy/nginx.conf" -g 'daemon off;' &
NGINX_PROXY_PID=$!
pids+=($!)

# --- Airlock -------------------------------------------------------------------------------------------------------
cat > "$work/airlock.yaml" <<CONF
listen:
  address: 127.0.0.1:$AIRLOCK_PORT
  tls: {certificate: certs/airlock.crt, key: certs/airlock.key}
admin:
  address: 127.0.0.1:$ADMIN_PORT
limits:
  max_body_bytes: 33554432
  upstream_timeout_seconds: 60
vendors:
  - name: bench
    path_prefix: /bench
    upstream: https://localhost:$UPSTREAM_PORT
    ca: certs/ca.crt
    routes: ["POST /v1/*"]
    policy: $POLICY
${CANDIDATE:+    policy_candidate: $CANDIDATE}
    pool: {max_connections: 128}
pseudonym_key: certs/pseudonym.key
audit:
  enabled: $AUDIT_ENABLED
  directory: audit
  signing_key: certs/audit-signing.key
${COMMIT_DELAY_MS:+  commit_delay_ms: $COMMIT_DELAY_MS}
CONF
if [[ "$FORWARD" == "1" ]]; then
    FORWARD_PORT="$(free_port)"; TOKEN="bench-token-$RANDOM$RANDOM"
    HOSTS="api.bench.example$(for i in $(seq 1 100); do printf ', h%d.bench.example' "$i"; done)"
    python3 - "$work/airlock.yaml" "$FORWARD_PORT" "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" "$HOSTS" <<'PY'
import sys
path, port, digest, hosts = sys.argv[1:]
text = open(path).read().replace("    path_prefix: /bench\n", "    path_prefix: /bench\n    hosts: [%s]\n" % hosts)
text += ("forward:\n  address: 127.0.0.1:%s\n  ca: {certificate: certs/interception-ca.crt, key: certs/interception-ca.key}\n"
         "clients:\n  - {name: bench, token_sha256: %s, vendors: [bench]}\n" % (port, digest))
open(path, "w").write(text)
PY
fi
"$AIRLOCK" serve --config "$work/airlock.yaml" --log-level warning &
AIRLOCK_PID=$!
pids+=($AIRLOCK_PID)

wait_port "$UPSTREAM_PORT"; wait_port "$NGINX_PORT"; wait_port "$AIRLOCK_PORT"
if [[ "$FORWARD" == "1" ]]; then
    wait_port "$FORWARD_PORT"
    source Benchmarks/forward-bench.sh
    exit 0
fi

# Each request must succeed: check once with curl before measuring.
for url in "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks" "https://127.0.0.1:$NGINX_PORT/v1/tasks"; do
    status="$(curl -s -o /dev/null -w '%{http_code}' -k -X POST -H 'content-type: application/json' --data @<(printf '{"a":1}') "$url")"
    if [[ "$status" != "200" ]]; then echo "error: $url answered $status" >&2; exit 1; fi
done

if [[ "$MODE" == "realistic" ]]; then
    # What the benchmark claims to measure: the vendor sees tokens, the lab gets its names back.
    upstream="$(curl -s -k -X POST -H 'content-type: application/json' --data-binary @"$work/task.json" \
        "https://127.0.0.1:$UPSTREAM_PORT/v1/tasks")"
    through="$(curl -s -k -X POST -H 'content-type: application/json' --data-binary @"$work/task.json" \
        "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks")"
    if ! grep -q CODENAME_ <<<"$upstream" || grep -q Nightingale <<<"$upstream"; then
        echo "error: the upstream's echo does not hold the tokens Airlock sends" >&2; exit 1
    fi
    if ! grep -q Nightingale <<<"$through" || grep -q CODENAME_ <<<"$through"; then
        echo "error: Airlock did not restore the echo: $through" >&2; exit 1
    fi
    tokens="$(grep -o 'CODENAME_[A-Z0-9]*\|MODEL_[A-Z0-9]*\|EMAIL_[A-Z0-9]*\|\[REDACTED:[A-Z_]*\]' "$work/reply.json" | wc -l)"
    echo "==> realistic: $tokens tokens and placeholders per task, restored on the way back;" \
        "$(wc -c <"$work/reply.json") byte reply"
fi

run_wrk() { # url -> "rps p50 p99 non2xx requests"
    local out
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/post.lua" "$1")"
    local rps p50 p99 errors requests
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")"
    requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    echo "$rps $p50 $p99 ${errors:-0} $requests"
}

echo "==> warming up"
wrk -t1 -c8 -d2s -s "$work/post.lua" "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks" >/dev/null
wrk -t1 -c8 -d2s -s "$work/post.lua" "https://127.0.0.1:$NGINX_PORT/v1/tasks" >/dev/null

echo "==> mode $MODE; Airlock: policy $POLICY${CANDIDATE:+, candidate $CANDIDATE}, audit log $AUDIT"
echo "==> measuring ${DURATION}s each, $CONNECTIONS connections, $THREADS wrk threads, $WORKERS proxy workers, $(nproc) cores"
perf_events="instructions,task-clock,context-switches,raw_syscalls:sys_enter"
if [[ "$SYSCALLS" == "1" ]]; then
    for call in read write readv writev recvfrom recvmsg sendto sendmsg epoll_wait epoll_pwait epoll_ctl futex \
        fsync fdatasync pwrite64 accept4 close setsockopt getsockopt ioctl timerfd_settime; do
        perf_events+=",syscalls:sys_enter_$call"
    done
fi
profiler=""
if [[ "$PERF_STAT" == "1" ]]; then
    perf stat -x, -e "$perf_events" -p "$AIRLOCK_PID" -o "$work/perf-stat.csv" -- sleep "$DURATION" &
    profiler=$!
elif [[ -n "$PERF_RECORD" ]]; then
    perf record -q --call-graph "${CALL_GRAPH:-fp}" -p "$AIRLOCK_PID" -o "$PERF_RECORD" -- sleep "$DURATION" 2>"$work/perf-record.log" &
    profiler=$!
fi
read -r a_rps a_p50 a_p99 a_err a_requests <<<"$(run_wrk "https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks")"
if [[ -n "$profiler" ]]; then wait "$profiler" || true; fi
if [[ "$ONLY_AIRLOCK" != "1" ]]; then
    if [[ "$PERF_STAT" == "1" ]]; then
        perf stat -x, -e "$perf_events" -p "$(pgrep -d, -P "$NGINX_PROXY_PID")" -o "$work/perf-stat-nginx.csv" \
            -- sleep "$DURATION" &
        profiler=$!
    fi
    read -r n_rps n_p50 n_p99 n_err n_requests <<<"$(run_wrk "https://127.0.0.1:$NGINX_PORT/v1/tasks")"
    if [[ "$PERF_STAT" == "1" ]]; then wait "$profiler" || true; fi
fi

printf '\n%-10s %12s %10s %10s %10s\n' "proxy" "req/s" "p50" "p99" "non-2xx"
printf '%-10s %12s %10s %10s %10s\n' "airlock" "$a_rps" "$a_p50" "$a_p99" "$a_err"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '
    /^airlock_inspection_seconds_sum/ { sum += $2 } /^airlock_inspection_seconds_count/ { count += $2 }
    END { if (count > 0) printf "airlock inspection: %.1f us per request (mean of %d)\n", sum / count * 1e6, count }'
if [[ "$ONLY_AIRLOCK" != "1" ]]; then
    printf '%-10s %12s %10s %10s %10s\n' "nginx" "$n_rps" "$n_p50" "$n_p99" "$n_err"
    python3 -c "print(f'\nairlock / nginx req/s: {float(\"$a_rps\") / float(\"$n_rps\") * 100:.1f}%')"
fi
if [[ "$PERF_STAT" == "1" ]]; then
    per_request() { # name csv requests
        python3 - "$@" <<'PY'
import sys
name, path, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
values = {}
for line in open(path):
    fields = line.strip().split(",")
    if len(fields) > 2 and not line.startswith("#"):
        try:
            values[fields[2]] = float(fields[0])
        except ValueError:
            pass  # `<not supported>`: no hardware counters (a VM without a PMU)
instructions = values.get("instructions")
print(f"{name} per request: "
      + (f"{instructions / requests:,.0f} instructions, " if instructions else "instructions not available, ")
      + f"{values.get('task-clock', 0) * 1000 / requests:,.1f} us CPU, "
      + f"{values.get('context-switches', 0) / requests:.2f} context switches, "
      + f"{values.get('raw_syscalls:sys_enter', 0) / requests:.2f} system calls ({requests} requests)")
calls = {k.split("sys_enter_", 1)[1]: v for k, v in values.items() if "sys_enter_" in k and v > 0}
if calls:
    print("  system calls per request: "
          + ", ".join(f"{call} {count / requests:.2f}" for call, count in sorted(calls.items(), key=lambda kv: -kv[1])))
PY
    }
    per_request airlock "$work/perf-stat.csv" "$a_requests"
    if [[ "$ONLY_AIRLOCK" != "1" ]]; then per_request nginx "$work/perf-stat-nginx.csv" "$n_requests"; fi
fi
if [[ -n "$PERF_RECORD" ]]; then echo "perf record of airlock: $PERF_RECORD"; fi
