#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster for the tests (creating a `weft` role
# and a `weft_test` database once) and prints the URL the tests use.
# Needs root (or the postgres user) to start the cluster.
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" && $4 == "online" { found = 1 } END { exit !found }'; then
  # pg_ctlcluster may report what it did (e.g. "Removed stale pid file"):
  # only the URL goes to stdout.
  pg_ctlcluster "$ver" main start >&2
fi
as_postgres() { if [[ "$(id -un)" == postgres ]]; then "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi; }
as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'weft'" | grep -q 1 ||
  as_postgres psql -qc "CREATE ROLE weft LOGIN PASSWORD 'weft'" >/dev/null
as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'weft_test'" | grep -q 1 ||
  as_postgres createdb -O weft weft_test >&2
echo "postgresql://weft:weft@127.0.0.1:5432/weft_test"
