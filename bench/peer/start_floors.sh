# Sourced by run.sh and floors.sh: starts floor servers, each "TOOL ARG MODE"
# (durable_floor inline|writer sync|nosync, beast_floor THREADS
# sync|nosync|sqlite|none), from FIRST_PORT up, with their files in WORK.
# Appends each one's pid to floor_pids and "NAME=URL=PID" to floor_specs.
#   start_floors BENCH_DIR WORK FIRST_PORT "TOOL ARG MODE" ...
start_floors() {
  local bench=$1 work=$2 port=$3 shape tool arg mode
  shift 3
  for shape in "$@"; do
    read -r tool arg mode <<<"$shape"
    "$bench/$tool" "$port" "$work/$tool-$arg-$mode" "$arg" "$mode" > /dev/null &
    floor_pids+=($!)
    floor_specs+=("$tool-$arg-$mode=http://127.0.0.1:$port/$tool-$arg-$mode=$!")
    port=$((port + 1))
  done
}
