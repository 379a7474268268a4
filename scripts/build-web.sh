#!/usr/bin/env bash
# Bundles weft's browser code (web/) with esbuild into OUT_DIR; the build
# embeds the result in the weft binary. Installs the npm packages of
# web/package-lock.json first when they are missing or stale.
#   scripts/build-web.sh OUT_DIR
set -euo pipefail
out=${1:?usage: scripts/build-web.sh OUT_DIR}
web=$(cd "$(dirname "$0")/../web" && pwd)
command -v npm >/dev/null || { echo "build-web: npm is needed to bundle the web assets (scripts/install-deps.sh)" >&2; exit 1; }
if [[ ! -f "$web/node_modules/.package-lock.json" || "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]]; then
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$out"
"$web/node_modules/.bin/esbuild" "$web/src/widget/index.ts" --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$out/widget.js"
"$web/node_modules/.bin/esbuild" "$web/src/console/index.tsx" --bundle --minify --format=iife --target=es2020 \
  --jsx=automatic --jsx-import-source=preact --legal-comments=none --log-level=warning \
  --outfile="$out/console.js"
