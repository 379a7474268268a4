#!/usr/bin/env bash
# Two weft binaries on the peer webhook, measured in turns so that both see
# the same machine load: req/s, latency and the server's CPU per request
# (from /proc/<pid>/stat). For "did this change make it faster" on a shared,
# noisy machine, where a single run's absolute figures mean little.
#   bench/peer/ab.sh OLD_WEFT NEW_WEFT [hook path, default triage] [rounds, 3] [connections, 16]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lua=${PEERBENCH:-$root/../shared/peerbench}/post.lua
old=$1 new=$2 path=${3:-triage} rounds=${4:-3} conns=${5:-16}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
ports=(18191 18192)
for i in 0 1; do
  bin=$old; [ $i -eq 1 ] && bin=$new
  mkdir -p "$work/$i"
  "$bin" serve --db "$work/$i/weft.db" --workflows "$here/workflows" --listen 127.0.0.1:${ports[$i]} \
    > "$work/$i/serve.log" 2>&1 &
  pids+=($!)
done
for port in "${ports[@]}"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:$port/healthz && break; sleep 0.1; done
  wrk -t2 -c16 -d2s -s "$lua" http://127.0.0.1:$port/hooks/$path > /dev/null  # warm-up
done
threads=2; [ "$conns" -eq 1 ] && threads=1
for r in $(seq 1 "$rounds"); do
  for i in 0 1; do
    label=old; [ $i -eq 1 ] && label=new
    before=$(awk '{print $14 + $15}' /proc/${pids[$i]}/stat)
    result=$(wrk -t$threads -c"$conns" -d5s --latency -s "$lua" http://127.0.0.1:${ports[$i]}/hooks/$path | grep RESULT)
    after=$(awk '{print $14 + $15}' /proc/${pids[$i]}/stat)
    reqs=$(sed 's/.*reqs=\([0-9]*\).*/\1/' <<<"$result")
    ticks=$(getconf CLK_TCK)
    echo "round $r $label $(awk '{print $4, $5, $7}' <<<"$result") cpu_us_per_req=$(( (after - before) * 1000000 / ticks / (reqs > 0 ? reqs : 1) ))"
  done
done
