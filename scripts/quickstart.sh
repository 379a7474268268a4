#!/usr/bin/env bash
# One command for a new user: install dependencies, build weft, run it.
# (For now weft's main job is its expression engine: `weft eval`.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target weft
weft=build/release/src/cli/weft
example=examples/triage-state.json

echo
echo "weft is built: $weft"
echo
echo "\$ weft eval \"urgency = 'high' or confidence < 0.7 ? 'human' : 'auto'\" -i $example"
"$weft" eval "urgency = 'high' or confidence < 0.7 ? 'human' : 'auto'" -i "$example"
echo
echo "\$ weft eval '{\"ticket\": userId & \"-\" & issue_type, \"open\": tickets[status=\"open\"].id, \"total\": \$sum(tickets.amount)}' -i $example"
"$weft" eval '{"ticket": userId & "-" & issue_type, "open": tickets[status="open"].id, "total": $sum(tickets.amount)}' -i "$example"
echo
echo "Try your own: $weft eval 'EXPRESSION' -i FILE.json   (see README.md)"
