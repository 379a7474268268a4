#!/usr/bin/env bash
# N conversations (default 1,000) each exchanging M messages (default 10)
# with the support-triage example (local classifier) through weft serve's
# chat channel over WebSockets, all at once: messages per second, reply
# latency percentiles, and the server's CPU time per message and peak RSS.
#   bench/chat/conversations.sh [N] [M]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
n=${1:-1000}
m=${2:-10}
raise_files "$n"
mkdir "$work/workflows"
cp "$root/examples/support-triage.yaml" "$work/workflows/"
# Each conversation keeps a WebSocket and, for a while, an HTTP connection.
printf 'server:\n  max_connections: %d\n  trusted_proxies: [127.0.0.1]\n  rate_per_address: 100000\n  rate_burst: 100000\n' \
  $((n * 2 + 100)) > "$work/weft.yaml"
serve 18284 "$work/workflows"
# The local classifier trains on its first use: once, before measuring.
curl -sf -o /dev/null -X POST http://127.0.0.1:18284/chat/support/conversations
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
warm=$(curl -sf -X POST -H 'X-Forwarded-For: 10.255.0.1' http://127.0.0.1:18284/chat/support/conversations | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $warm" -d '{"id":"w","text":"warm up"}' http://127.0.0.1:18284/chat/support/messages
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:18284/chat/support/messages?token=$warm" | grep -q assistant && break
  sleep 0.1
done
ticks=$(getconf CLK_TCK)
before=$(cpu)
# PERF=1: a profile of the server while the conversations run (perf report -i /tmp/conv.perf)
[ -n "${PERF:-}" ] && (perf record -g -p $pid -o /tmp/conv.perf -- sleep 6 >/dev/null 2>&1 &)
node --experimental-websocket "$here/conversations.mjs" 18284 support "$n" "$m" 2>&1 | grep -v ExperimentalWarning | tee "$work/client.log"
after=$(cpu)
replies=$(sed -n 's/.* replies=\([0-9]*\).*/\1/p' "$work/client.log")
echo "server_cpu_seconds=$(( (after - before) / ticks )) cpu_us_per_message=$(( (after - before) * 1000000 / ticks / (replies > 0 ? replies : 1) )) rss_peak_KiB=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
