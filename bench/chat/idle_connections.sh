#!/usr/bin/env bash
# Memory per idle chat connection: weft serve's RSS before and with N idle
# WebSockets on a chat channel (default 10,000), all on one conversation
# (a visitor's tabs; the server keeps the same per connection either way).
#   bench/chat/idle_connections.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
n=${1:-10000}
raise_files "$n"
mkdir "$work/workflows"
cp "$root/examples/support-triage.yaml" "$work/workflows/"
printf 'server:\n  max_connections: %d\n' $((n + 100)) > "$work/weft.yaml"
serve 18283 "$work/workflows"
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
