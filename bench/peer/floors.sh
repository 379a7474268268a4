#!/usr/bin/env bash
# weft beside the floors under it, measured in turns (bench/peer/turns.sh):
# durable_floor (a durable webhook with nothing but epoll, pwrite and
# fdatasync), beast_floor on weft's HTTP stack flushing a file, inserting
# into SQLite (WAL, synchronous=FULL) and writing nothing. What weft costs
# above the stack it is built on, on this machine (bench/RESULTS.md).
#   bench/peer/floors.sh [rounds, 3] [connections, 16]      (WEFT=path/to/weft)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
weft=${WEFT:-$root/build/ci/src/cli/weft}
[ -x "$weft" ] || { echo "$weft is not built (cmake --build --preset ci)" >&2; exit 2; }
source "$here/start_floors.sh"
bench=$(floors_dir "$weft" "$root") || exit 2
rounds=${1:-3} conns=${2:-16}
work=$(mktemp -d)
floor_pids=()
floor_specs=()
trap 'kill "${floor_pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$weft" serve --db "$work/weft.db" --workflows "$here/workflows" --listen 127.0.0.1:18171 > "$work/serve.log" 2>&1 &
floor_pids+=($!)
floor_specs+=("weft=http://127.0.0.1:18171/hooks/triage=$!")
start_floors "$bench" "$work" 18172 "durable_floor writer sync" "beast_floor 2 sync" "beast_floor 2 sqlite" \
  "beast_floor 2 none"
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18171/healthz && break; sleep 0.1; done
"$here/turns.sh" "$rounds" "$conns" "${floor_specs[@]}"
