#!/usr/bin/env bash
# Memory per idle SSE subscriber: weft serve's RSS before and with N idle
# subscriptions to /api/v1/events (default 10,000).
#   bench/sse/idle_subscribers.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
weft=${WEFT:-$root/build/release/src/cli/weft}
[ -x "$weft" ] || weft=$root/build/ci/src/cli/weft
n=${1:-10000}
ulimit -n $((n * 2 + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
trap 'kill $pid $client 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
printf 'server:\n  max_connections: %d\n  header_timeout_ms: 600000\n' $((n + 100)) > "$work/weft.yaml"
key=$("$weft" keys create --name bench --role viewer --db "$work/weft.db")
"$weft" serve --config "$work/weft.yaml" --db "$work/weft.db" --workflows "$root/bench/peer/workflows" \
  --listen 127.0.0.1:18282 > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18282/healthz && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
before=$(rss)
node "$here/idle_subscribers.mjs" 18282 "$key" "$n" > "$work/client.log" 2>&1 &
client=$!
for _ in $(seq 1 600); do grep -q '^open=' "$work/client.log" && break; sleep 0.2; done
sleep 2
after=$(rss)
cat "$work/client.log"
echo "subscribers=$n rss_before_KiB=$before rss_after_KiB=$after per_subscriber_bytes=$(( (after - before) * 1024 / n ))"
