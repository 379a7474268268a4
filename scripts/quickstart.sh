#!/usr/bin/env bash
# One command for a new user: install dependencies, build weft, and run the
# support-triage example on the embedded SQLite store (no other service).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target weft
weft=build/release/src/cli/weft
db=${WEFT_DB:-build/quickstart.db}
wf=examples/support-triage.yaml

echo
echo "weft is built: $weft   (runs are kept in $db)"
echo
echo "\$ weft run $wf --input '{\"message\": \"How do I download my invoice?\"}'"
"$weft" run "$wf" --db "$db" --input '{"message": "How do I download my invoice?"}'
echo
echo "\$ weft run $wf --input '{\"message\": \"I was charged twice and nobody answered\"}'"
out=$("$weft" run "$wf" --db "$db" --input '{"message": "I was charged twice and nobody answered"}')
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
echo
echo "Next: $weft validate FILE.yaml, $weft runs list --db $db, $weft eval 'EXPRESSION' -i FILE.json (see README.md)"
