#!/usr/bin/env bash
# durable_floor and beast_floor answer a webhook only once its body is in the
# file, in each shape (ctest's bench_*_floor_smoke: the tools must not rot).
#   bench/peer/floor_smoke.sh PATH/TO/durable_floor inline writer
#   bench/peer/floor_smoke.sh PATH/TO/beast_floor 1 2 2:sqlite   (threads[:mode])
set -euo pipefail
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
tool=$1
shift
for arg in "$@"; do
  shape=${arg%%:*} mode=sync
  [[ $arg == *:* ]] && mode=${arg#*:}
  "$tool" 0 "$work/$shape-$mode.log" "$shape" $mode > "$work/out" &
  pid=$!
  for _ in $(seq 1 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
  port=$(awk '/listening on/ {print $3}' "$work/out")
  answer=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"message":"down","urgency":"high"}' \
    "http://127.0.0.1:$port/hooks/triage")
  [[ $answer == *'"route":"human"'* ]] || { echo "$arg: unexpected answer: $answer"; exit 1; }
  # (an SQLite database has it in its write-ahead log)
  grep -aqs '"message":"down"' "$work/$shape-$mode.log"* || { echo "$arg: the body is not in the file"; exit 1; }
  kill $pid; wait $pid 2>/dev/null || true
done
echo "$(basename "$tool"): every shape answers after the write"
