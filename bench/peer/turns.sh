#!/usr/bin/env bash
# Servers already listening, measured in turns so that all of them see the
# same machine load: req/s, latency and each server's CPU per request (from
# /proc/<pid>/stat), 5 s per turn with the peer benchmark's POST. For "which
# is faster" on a shared, noisy machine, where one run's figures mean little.
#   bench/peer/turns.sh ROUNDS CONNECTIONS NAME=URL=PID ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lua=${PEERBENCH:-$here/../../../shared/peerbench}/post.lua
rounds=$1 conns=$2
shift 2
threads=2; [ "$conns" -eq 1 ] && threads=1
ticks=$(getconf CLK_TCK)
for spec in "$@"; do  # warm-up
  IFS='=' read -r _ url _ <<<"$spec"
  wrk -t2 -c16 -d2s -s "$lua" "$url" > /dev/null
done
for r in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    IFS='=' read -r name url pid <<<"$spec"
    before=$(awk '{print $14 + $15}' /proc/$pid/stat)
    result=$(wrk -t$threads -c"$conns" -d5s --latency -s "$lua" "$url" | grep RESULT)
    after=$(awk '{print $14 + $15}' /proc/$pid/stat)
    reqs=$(sed 's/.*reqs=\([0-9]*\).*/\1/' <<<"$result")
    echo "round $r $name $(awk '{print $4, $5, $7}' <<<"$result") cpu_us_per_req=$(( (after - before) * 1000000 / ticks / (reqs > 0 ? reqs : 1) ))"
  done
done
