#!/usr/bin/env bash
# durable_floor answers a webhook only once its body is in the file, in both
# shapes (ctest's bench_durable_floor_smoke: the tool must not rot).
#   bench/peer/floor_smoke.sh PATH/TO/durable_floor
set -euo pipefail
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for shape in inline writer; do
  "$1" 0 "$work/$shape.log" "$shape" sync > "$work/out" &
  pid=$!
  for _ in $(seq 1 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
  port=$(awk '/listening on/ {print $3}' "$work/out")
  answer=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"message":"down","urgency":"high"}' \
    "http://127.0.0.1:$port/hooks/triage")
  [[ $answer == *'"route":"human"'* ]] || { echo "$shape: unexpected answer: $answer"; exit 1; }
  grep -q '"message":"down"' "$work/$shape.log" || { echo "$shape: the body is not in the file"; exit 1; }
  kill $pid; wait $pid 2>/dev/null || true
done
echo "durable_floor: both shapes answer after the write"
