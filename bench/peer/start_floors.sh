# Sourced by run.sh and floors.sh.

# The folder holding durable_floor and beast_floor: the bench folder of the
# build WEFT comes from, else build/ci's under ROOT. Fails, saying what to
# build, when neither has both.
#   floors_dir WEFT ROOT
floors_dir() {
  local dir
  for dir in "$(dirname "$(dirname "$(dirname "$1")")")/bench" "$2/build/ci/bench"; do
    if [ -x "$dir/durable_floor" ] && [ -x "$dir/beast_floor" ]; then
      echo "$dir"
      return 0
    fi
  done
  echo "the floors are not built (cmake --build --preset ci --target durable_floor beast_floor)" >&2
  return 2
}

# Starts floor servers, each "TOOL ARG MODE"
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
