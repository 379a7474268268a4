include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

expect_run(ARGS eval "urgency = 'high' or confidence < 0.7" -i ${SRC}/examples/triage-state.json CODE 0 OUT "^true\n$")
expect_run(ARGS eval "$sum([1..10])" CODE 0 OUT "^55\n$")
expect_run(ARGS eval "nothing" CODE 0 OUT "^$")
expect_run(ARGS eval "1 +" CODE 1 ERR "S0207 at position 3")
expect_run(ARGS eval "$" -i /nonexistent/file.json CODE 1 ERR "input file: cannot read '/nonexistent/file.json': No such file")
expect_run(ARGS eval CODE 2 ERR "expression is required")
# Inputs that never end are refused with their name, not read until memory runs out.
expect_run(ARGS eval "$" -i /dev/zero CODE 1 ERR "input file: '/dev/zero' is larger than 64 MiB")
expect_run(ARGS eval "$" -i - IN /dev/zero CODE 1 ERR "stdin is larger than 64 MiB")
expect_run(ARGS eval "$count([1..1000000])" --max-memory-mb 1 CODE 1 ERR "U1005 .*more than 1 MB")
expect_run(ARGS eval "$count([1..1000000])" --max-memory-mb 0 CODE 0 OUT "^1000000\n$")
