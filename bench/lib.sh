# Sourced by the server benchmarks (bench/chat, bench/sse): the weft binary
# ($WEFT, else the release build, else the CI build), a work folder removed
# on exit (the server's log is kept in /tmp/<script>-serve.log), and
# `weft serve` on a loopback port, waited for.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
weft=${WEFT:-$root/build/release/src/cli/weft}
[ -x "$weft" ] || weft=$root/build/ci/src/cli/weft
work=$(mktemp -d)
pid=""
client=""
bench_cleanup() {
  # shellcheck disable=SC2086  # the pids may be empty
  kill $pid $client 2>/dev/null || true
  [ -n "$pid" ] && wait "$pid" 2>/dev/null
  [ -f "$work/serve.log" ] && cp "$work/serve.log" "/tmp/$(basename "$0" .sh)-serve.log"
  rm -rf "$work"
}
trap bench_cleanup EXIT

# Room for N connections (each has two ends on this machine) and some more.
raise_files() { ulimit -n $(($1 * 2 + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }

# serve PORT WORKFLOWS: weft serve on 127.0.0.1:PORT with $work/weft.yaml
# and $work/weft.db; sets $pid.
serve() {
  "$weft" serve --config "$work/weft.yaml" --db "$work/weft.db" --workflows "$2" --listen "127.0.0.1:$1" \
    >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
    sleep 0.1
  done
  echo "weft serve did not start:" >&2
  cat "$work/serve.log" >&2
  return 1
}
