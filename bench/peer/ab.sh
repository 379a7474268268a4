#!/usr/bin/env bash
# Two weft binaries on the peer webhook, measured in turns (bench/peer/turns.sh):
# "did this change make it faster" on a shared, noisy machine.
#   bench/peer/ab.sh OLD_WEFT NEW_WEFT [hook path, default triage] [rounds, 3] [connections, 16]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
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
done
"$here/turns.sh" "$rounds" "$conns" "old=http://127.0.0.1:${ports[0]}/hooks/$path=${pids[0]}" \
  "new=http://127.0.0.1:${ports[1]}/hooks/$path=${pids[1]}"
