#!/usr/bin/env bash
# Reproduces the cost of hotword context across JSON members (JSONMemberContext.contains): every candidate match of a
# `near:` pattern whose own text lacks its hotwords walks up to 256 strings on each side of it (and their parents).
# A document where most strings are such candidates costs ~ candidates x 512 string reads. Not a test (no timing
# assertions): it prints the wall time of `airlock redact` on documents of growing size, so a fix shows as
# near-linear growth.
#
#   Benchmarks/member-context-repro.sh [path/to/airlock]     (default: .build/debug/airlock)
set -euo pipefail
airlock="${1:-.build/debug/airlock}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -c 32 /dev/urandom | base64 > "$work/pseudonym.key"
chmod 600 "$work/pseudonym.key"   # key files others can read are refused
cat > "$work/policy.yaml" <<'YAML'
version: 1
name: member-context-repro
patterns:
  - id: roadmap-quarter
    label: ROADMAP
    regex: 'Q[1-4] ?20[0-9]{2}'
    action: redact
    near: [launch, release]
    within: 20
YAML
# Two shapes: wide (four objects of many members) and deep (objects nested `members / 20` levels, 20 members each: the
# walk also climbs each string's parents to find its object).
for shape in wide deep; do
  for members in 250 500 1000 2000; do
    python3 - "$members" "$shape" > "$work/body.json" <<'PY'
import json, sys
n, shape = int(sys.argv[1]), sys.argv[2]
if shape == "wide":
    doc = {"tasks": [{f"k{i}": "Q2 2027" for i in range(n // 4)} for _ in range(4)]}
else:
    doc = {}
    for level in range(n // 20):
        doc = dict({f"k{i}": "Q2 2027" for i in range(20)}, inner=doc)
print(json.dumps(doc))
PY
    size=$(wc -c < "$work/body.json")
    start=$(date +%s.%N)
    "$airlock" redact --policy "$work/policy.yaml" --key-file "$work/pseudonym.key" --content-type application/json \
      "$work/body.json" > /dev/null 2>&1
    end=$(date +%s.%N)
    printf '%-4s %5d candidates, %6d bytes: %.3f s\n' "$shape" "$members" "$size" "$(echo "$end - $start" | bc)"
  done
done
