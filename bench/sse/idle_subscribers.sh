#!/usr/bin/env bash
# Memory per idle SSE subscriber: weft serve's RSS before and with N idle
# subscriptions to /api/v1/events (default 10,000).
#   bench/sse/idle_subscribers.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
n=${1:-10000}
raise_files "$n"
printf 'server:\n  max_connections: %d\n  header_timeout_ms: 600000\n' $((n + 100)) > "$work/weft.yaml"
key=$("$weft" keys create --name bench --role viewer --db "$work/weft.db")
serve 18282 "$root/bench/peer/workflows"
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
before=$(rss)
node "$here/idle_subscribers.mjs" 18282 "$key" "$n" > "$work/client.log" 2>&1 &
client=$!
for _ in $(seq 1 600); do grep -q '^open=' "$work/client.log" && break; sleep 0.2; done
sleep 2
after=$(rss)
cat "$work/client.log"
echo "subscribers=$n rss_before_KiB=$before rss_after_KiB=$after per_subscriber_bytes=$(( (after - before) * 1024 / n ))"
