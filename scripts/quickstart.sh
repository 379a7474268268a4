#!/usr/bin/env bash
# One command for a new user: install dependencies, build weft, run the
# support-triage example on the embedded SQLite store (no other service),
# then serve it behind its chat channel with the widget's demo page (until
# Ctrl-C when run from a terminal; a short check otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target weft
weft=build/release/src/cli/weft
db=${WEFT_DB:-build/quickstart.db}
wf=examples/support-triage.yaml
config=examples/weft.yaml  # the help centre the example answers from (examples/knowledge/help)

echo
echo "weft is built: $weft   (runs are kept in $db)"
echo
echo "\$ weft run $wf --config $config --input '{\"message\": \"How do I download my invoice?\"}'"
"$weft" run "$wf" --config "$config" --db "$db" --input '{"message": "How do I download my invoice?"}'
echo
echo "\$ weft run $wf --config $config --input '{\"message\": \"I was charged twice and nobody answered\"}'"
out=$("$weft" run "$wf" --config "$config" --db "$db" --input '{"message": "I was charged twice and nobody answered"}')
echo "$out"
run=$(echo "$out" | sed -n 's/^run \([0-9A-Z]*\) suspended$/\1/p')
if [[ -n "$run" ]]; then
  echo
  echo "\$ weft resume $run --with '{\"handed_back\": true, \"by\": \"ana\", \"note\": \"refunded\"}'"
  "$weft" resume "$run" --db "$db" --with '{"handed_back": true, "by": "ana", "note": "refunded"}'
  echo
  echo "\$ weft runs show $run"
  "$weft" runs show "$run" --db "$db"
fi

# The same workflow served: its chat channel, the widget and a demo page,
# and the console (a user `admin` with a generated password, kept in
# build/quickstart-admin-password for the next time).
port=${WEFT_PORT:-8080}
password_file=build/quickstart-admin-password
if ! "$weft" users list --db "$db" 2>/dev/null | grep -q '^admin '; then
  head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$password_file"
  "$weft" users add admin --role admin --db "$db" <"$password_file" >/dev/null
fi
folder=build/quickstart-workflows
mkdir -p "$folder"
cp "$wf" "$folder/"
echo
echo "\$ weft serve --config $config --workflows $folder --db $db --listen 127.0.0.1:$port"
"$weft" serve --config "$config" --workflows "$folder" --db "$db" --listen "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/chat/support/conversations" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
curl -sf -X POST -H "Authorization: Bearer $token" -d '{"id":"hello","text":"Where can I download my invoices?"}' \
  "http://127.0.0.1:$port/chat/support/messages" >/dev/null
echo "A chat message and its answer, through the server:"
for _ in $(seq 1 100); do
  said=$(curl -sf "http://127.0.0.1:$port/chat/support/messages?token=$token" | grep -o '"role":"[a-z]*","kind":"[a-z]*","content":{[^}]*"text":"[^"]*"' || true)
  [[ $(echo "$said" | grep -c assistant) -ge 1 ]] && break
  sleep 0.1
done
echo "$said" | sed 's/"role":"\([a-z]*\)".*"text":"\([^"]*\)"/  \1: \2/'
echo
echo "The console:                     http://127.0.0.1:$port/  (user admin, password $(cat "$password_file" 2>/dev/null || echo "in $password_file"))"
echo "The chat widget on a demo page:  http://127.0.0.1:$port/demo/support"
echo "On any page:                     <script src=\"http://127.0.0.1:$port/widget.js\" data-channel=\"support\"></script>"
echo "Next: $weft validate FILE.yaml, $weft runs list --db $db, $weft eval 'EXPRESSION' -i FILE.json (see README.md)"
if [[ -t 0 ]]; then
  echo "weft serves until Ctrl-C."
  wait $server
fi
