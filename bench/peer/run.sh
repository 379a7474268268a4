#!/usr/bin/env bash
# weft beside Node-RED (and n8n with `--n8n`) on the peer benchmark's webhook
# workflow, measured in one invocation of ../shared/peerbench/run.sh so that
# the ratios are taken under the same machine load. Prints RESULT lines and
# weft's peak RSS. With --floor, also the floors: durable_floor
# (bench/peer/durable_floor.cc, the least any durable server costs here) in
# its two shapes, and beast_floor (bench/peer/beast_floor.cc, the same on
# weft's HTTP stack) flushing a file and inserting into SQLite.
#   bench/peer/run.sh [--n8n] [--sync-normal] [--floor]     (after scripts/test.sh or a release build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
peer=${PEERBENCH:-$root/../shared/peerbench}
weft=${WEFT:-$root/build/release/src/cli/weft}
[ -x "$weft" ] || weft=$root/build/ci/src/cli/weft
peers=(nodered)
sync=()
floor=""
for a in "$@"; do
  case $a in
  --n8n) peers+=(n8n) ;;
  --sync-normal) sync=(--sync-normal) ;;
  --floor)
    source "$here/start_floors.sh"
    floor=$(floors_dir "$weft" "$root") || exit 2 ;;
  esac
done
[ -d "${PEERBENCH_DIR:-/tmp/peerbench}/nodered" ] || bash "$peer/setup.sh" "${peers[@]:1}"
work=$(mktemp -d)
floor_pids=()
trap 'kill $pid "${floor_pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$weft" serve --db "$work/weft.db" "${sync[@]}" --workflows "$here/workflows" --listen 127.0.0.1:18181 \
  > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18181/healthz && break; sleep 0.1; done
rss_max=0
( while kill -0 $pid 2>/dev/null; do
    r=$(ps -o rss= -p $pid | tr -d ' '); [ "${r:-0}" -gt "$rss_max" ] && rss_max=$r && echo "$rss_max" > "$work/rss"
    sleep 0.5
  done ) &
floor_specs=()
floor_urls=()
if [ -n "$floor" ]; then
  start_floors "$floor" "$work" 18182 "durable_floor inline sync" "durable_floor writer sync" "beast_floor 2 sync" \
    "beast_floor 2 sqlite"
  for spec in "${floor_specs[@]}"; do
    IFS='=' read -r _ url _ <<<"$spec"
    floor_urls+=("$url")
  done
fi
bash "$peer/run.sh" "${peers[@]}" http://127.0.0.1:18181/hooks/triage http://127.0.0.1:18181/hooks/triage-accepted \
  "${floor_urls[@]}"
echo "weft rss_max_MiB=$(( $(cat "$work/rss") / 1024 ))"
curl -s http://127.0.0.1:18181/api/v1/runs >/dev/null || true
