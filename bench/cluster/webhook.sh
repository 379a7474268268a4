#!/usr/bin/env bash
# The peer webhook workflow (bench/peer/workflows/triage.yaml, every run
# durable) on SQLite, then on PostgreSQL with 1, 2 and 4 `weft serve`
# processes sharing one database, measured in one invocation so that the
# figures compare under the same machine load. Each process gets its own
# wrk (a load balancer's share); req/s are summed, latency is the worst
# process's.
#   WEFT_BENCH_POSTGRES=postgresql://... bench/cluster/webhook.sh [seconds] [connections per process]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
weft=${WEFT:-$root/build/release/src/cli/weft}
[ -x "$weft" ] || weft=$root/build/ci/src/cli/weft
url=${WEFT_BENCH_POSTGRES:-${WEFT_TEST_POSTGRES:-}}
[ -n "$url" ] || { echo "set WEFT_BENCH_POSTGRES (scripts/start-postgres.sh prints one)"; exit 2; }
seconds=${1:-10}
conns=${2:-16}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
body='{"message":"I was charged twice","urgency":"high"}'
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'$body'" > "$work/post.lua"

# Starts $1 processes with --db $2 (and weft.yaml $3), on ports 18300...
start() {
  local n=$1 db=$2 config=$3
  pids=()
  for i in $(seq 0 $((n - 1))); do
    "$weft" serve --config "$config" --db "$db" --workflows "$root/bench/peer/workflows" \
      --listen "127.0.0.1:$((18300 + i))" > "$work/serve$i.log" 2>&1 &
    pids+=($!)
  done
  for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$((18300 + i))/healthz" && break; sleep 0.05; done
  done
}
stop() { for p in "${pids[@]}"; do kill "$p"; done; wait "${pids[@]}" 2>/dev/null || true; pids=(); }

# Loads $1 processes at once; prints "req/s p99".
load() {
  local n=$1 loaders=()
  for i in $(seq 0 $((n - 1))); do
    wrk -t1 -c"$conns" -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:$((18300 + i))/hooks/triage" \
      > "$work/wrk$i.txt" &
    loaders+=($!)
  done
  wait "${loaders[@]}"
  awk '/Requests\/sec/ {rps += $2} / 99%/ {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+/, "", v);
       ms = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v; if (ms > p99) p99 = ms}
       END {printf "%.0f req/s, p99 %.2f ms", rps, p99}' "$work"/wrk*.txt
  rm -f "$work"/wrk*.txt
}

echo "{}" > "$work/sqlite.yaml"
start 1 "$work/weft.db" "$work/sqlite.yaml"
echo "RESULT sqlite 1 process: $(load 1)"
stop
for n in 1 2 4; do
  schema="weft_bench_$$_$n"
  printf 'store: { postgres: "%s", schema: %s }\n' "$url" "$schema" > "$work/pg$n.yaml"
  start "$n" "" "$work/pg$n.yaml"
  echo "RESULT postgresql $n process(es): $(load "$n")"
  stop
  psql -q -d "$url" -c "DROP SCHEMA $schema CASCADE" > /dev/null 2>&1 || true
done
