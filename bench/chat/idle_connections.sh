#!/usr/bin/env bash
# Memory per idle chat connection: weft serve's RSS before and with N idle
# WebSockets on a chat channel (default 10,000), all on one conversation
# (a visitor's tabs; the server keeps the same per connection either way).
#   bench/chat/idle_connections.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
weft=${WEFT:-$root/build/release/src/cli/weft}
[ -x "$weft" ] || weft=$root/build/ci/src/cli/weft
n=${1:-10000}
ulimit -n $((n * 2 + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
trap 'kill $pid $client 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/workflows"
cp "$root/examples/support-triage.yaml" "$work/workflows/"
printf 'server:\n  max_connections: %d\n' $((n + 100)) > "$work/weft.yaml"
"$weft" serve --config "$work/weft.yaml" --db "$work/weft.db" --workflows "$work/workflows" \
  --listen 127.0.0.1:18283 > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18283/healthz && break; sleep 0.1; done
token=$(curl -sf -X POST http://127.0.0.1:18283/chat/support/conversations | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
before=$(rss)
node --experimental-websocket "$here/idle_connections.mjs" 18283 support "$token" "$n" > "$work/client.log" 2>&1 &
client=$!
for _ in $(seq 1 600); do grep -q '^open=' "$work/client.log" && break; sleep 0.2; done
sleep 2
after=$(rss)
cat "$work/client.log"
echo "connections=$n rss_before_KiB=$before rss_after_KiB=$after per_connection_bytes=$(( (after - before) * 1024 / n ))"
