# MODE=forward of proxy-bench.sh (sourced there once Airlock listens on both listeners; not run on its own): the same
# realistic task through the reverse listener and through the forward listener, driven by curl --parallel, then the
# cost of a leaf for a new host.
REQUESTS="${REQUESTS:-20000}"
PARALLEL="${PARALLEL:-32}"
REVERSE_URL="https://127.0.0.1:$AIRLOCK_PORT/bench/v1/tasks"
FORWARD_URL="https://api.bench.example/v1/tasks"
reverse_args=(--cacert "$work/certs/ca.crt" -H "Airlock-Client-Token: $TOKEN")
forward_args=(-x "http://127.0.0.1:$FORWARD_PORT" --proxy-header "Proxy-Authorization: Bearer $TOKEN"
    --cacert "$work/certs/interception-ca.crt")

# One check of what the benchmark claims: the forward listener redacts out and restores back.
through="$(curl -s "${forward_args[@]}" -X POST -H 'content-type: application/json' --data-binary @"$work/task.json" "$FORWARD_URL")"
if ! grep -q Nightingale <<<"$through" || grep -q CODENAME_ <<<"$through"; then
    echo "error: the forward listener did not restore the echo: $through" >&2; exit 1
fi

# run_curl URL COUNT [curl options...] -> "req/s non-200": COUNT POSTs of the task, PARALLEL at a time.
run_curl() {
    local url="$1" count="$2"; shift 2
    local config="$work/urls.txt"
    for _ in $(seq 1 "$count"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >"$config"
    local start end codes
    start="$(date +%s.%N)"
    codes="$(curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$PARALLEL" -X POST -H 'content-type: application/json' \
        --data-binary @"$work/task.json" -w '%{http_code}\n' "$@" -K "$config" | sort | uniq -c)"
    end="$(date +%s.%N)"
    python3 -c "
import sys
codes = {c.split()[1]: int(c.split()[0]) for c in '''$codes'''.strip().splitlines()}
bad = {c: n for c, n in codes.items() if c != \"200\"}
print(f'{$count / ($end - $start):.0f} {sum(bad.values())}' + (' (' + ','.join(f'{n}x{c}' for c, n in bad.items()) + ')' if bad else ''))"
}

echo "==> warming up"
run_curl "$REVERSE_URL" 2000 "${reverse_args[@]}" >/dev/null
run_curl "$FORWARD_URL" 2000 "${forward_args[@]}" >/dev/null
echo "==> $REQUESTS requests per run, $PARALLEL in parallel (curl), realistic task, policy $POLICY, audit log $AUDIT"
printf '\n%-34s %10s %10s\n' "run" "req/s" "non-200"
for round in 1 2; do
    read -r r_rps r_err <<<"$(run_curl "$REVERSE_URL" "$REQUESTS" "${reverse_args[@]}")"
    read -r f_rps f_err <<<"$(run_curl "$FORWARD_URL" "$REQUESTS" "${forward_args[@]}")"
    printf '%-34s %10s %10s\n' "reverse, keep-alive (round $round)" "$r_rps" "$r_err"
    printf '%-34s %10s %10s\n' "forward, keep-alive (round $round)" "$f_rps" "$f_err"
    python3 -c "print(f'  forward / reverse: {$f_rps / $r_rps * 100:.1f}%')"
done
# Requests that did not arrive in time, by phase (a 408 in the tables above): the load generator falling behind.
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep '^airlock_request_timeouts_total' | sed 's/^/  /' || true
count=$((REQUESTS / 4))
# TLS session resumption inside the tunnel: a second connection offering the first one's session.
resumed() { # -> "yes" when openssl s_client's second connection resumed
    local common=(-proxy "127.0.0.1:$FORWARD_PORT" -proxy_user bench -proxy_pass "pass:$TOKEN" -connect api.bench.example:443
        -servername api.bench.example -CAfile "$work/certs/interception-ca.crt" -verify_return_error)
    printf 'GET / HTTP/1.1\r\nHost: api.bench.example\r\nConnection: close\r\n\r\n' \
        | openssl s_client "${common[@]}" -sess_out "$work/session.pem" -ign_eof >/dev/null 2>&1
    printf 'GET / HTTP/1.1\r\nHost: api.bench.example\r\nConnection: close\r\n\r\n' \
        | openssl s_client "${common[@]}" -sess_in "$work/session.pem" -ign_eof 2>/dev/null | grep -q '^Reused' && echo yes || echo no
}
echo "==> TLS session resumed by a new connection through the forward listener: $(resumed)"
read -r r_rps r_err <<<"$(run_curl "$REVERSE_URL" "$count" "${reverse_args[@]}" -H 'Connection: close')"
read -r f_rps f_err <<<"$(run_curl "$FORWARD_URL" "$count" "${forward_args[@]}" -H 'Connection: close')"
printf '%-34s %10s %10s\n' "reverse, new connection each" "$r_rps" "$r_err"
printf '%-34s %10s %10s\n' "forward, new connection each" "$f_rps" "$f_err"
python3 -c "print(f'  forward / reverse: {$f_rps / $r_rps * 100:.1f}%')"

# A new host costs a leaf: one request to each of 100 listed hosts never seen (minted), then again in a new curl
# process (cached leaf; a full handshake both times, curl's session cache being per process). The difference per
# host is the minting (key generation, signing, a TLS context).
minted_before="$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '/^airlock_forward_certificates_minted_total / {print $2}')"
for pass in first cached; do
    for i in $(seq 1 100); do printf 'url = "https://h%d.bench.example/v1/tasks"\noutput = "/dev/null"\n' "$i"; done >"$work/hosts.txt"
    start="$(date +%s.%N)"
    curl -s -X POST -H 'content-type: application/json' --data-binary @"$work/task.json" "${forward_args[@]}" \
        -K "$work/hosts.txt"
    end="$(date +%s.%N)"
    eval "t_$pass=$(python3 -c "print(($end - $start) * 1000 / 100)")"
done
minted_after="$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '/^airlock_forward_certificates_minted_total / {print $2}')"
python3 -c "print(f'\nnew host: {$t_first:.2f} ms per first request, {$t_cached:.2f} ms with the leaf cached: '
               f'{$t_first - $t_cached:.2f} ms per minted leaf ({int(float(\"$minted_after\") - float(\"${minted_before:-0}\"))} minted)')"
