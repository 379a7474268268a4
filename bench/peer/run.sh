#!/usr/bin/env bash
# weft beside Node-RED (and n8n with `--n8n`) on the peer benchmark's webhook
# workflow, measured in one invocation of ../shared/peerbench/run.sh so that
# the ratios are taken under the same machine load. Prints RESULT lines and
# weft's peak RSS.
#   bench/peer/run.sh [--n8n] [--sync-normal]      (after scripts/test.sh or a release build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
peer=${PEERBENCH:-$root/../shared/peerbench}
weft=${WEFT:-$root/build/release/src/cli/weft}
[ -x "$weft" ] || weft=$root/build/ci/src/cli/weft
peers=(nodered)
sync=()
for a in "$@"; do
  case $a in
  --n8n) peers+=(n8n) ;;
  --sync-normal) sync=(--sync-normal) ;;
  esac
done
[ -d "${PEERBENCH_DIR:-/tmp/peerbench}/nodered" ] || bash "$peer/setup.sh" "${peers[@]:1}"
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
"$weft" serve --db "$work/weft.db" "${sync[@]}" --workflows "$here/workflows" --listen 127.0.0.1:18181 \
  > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18181/healthz && break; sleep 0.1; done
rss_max=0
( while kill -0 $pid 2>/dev/null; do
    r=$(ps -o rss= -p $pid | tr -d ' '); [ "${r:-0}" -gt "$rss_max" ] && rss_max=$r && echo "$rss_max" > "$work/rss"
    sleep 0.5
  done ) &
bash "$peer/run.sh" "${peers[@]}" http://127.0.0.1:18181/hooks/triage http://127.0.0.1:18181/hooks/triage-accepted
echo "weft rss_max_MiB=$(( $(cat "$work/rss") / 1024 ))"
curl -s http://127.0.0.1:18181/api/v1/runs >/dev/null || true
