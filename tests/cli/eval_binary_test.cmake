include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

expect_run(ARGS eval "urgency = 'high' or confidence < 0.7" -i ${SRC}/examples/triage-state.json CODE 0 OUT "^true\n$")
expect_run(ARGS eval "$sum([1..10])" CODE 0 OUT "^55\n$")
expect_run(ARGS eval "nothing" CODE 0 OUT "^$")
expect_run(ARGS eval "1 +" CODE 1 ERR "S0207 at position 3")
expect_run(ARGS eval "$" -i /nonexistent/file.json CODE 1 ERR "cannot read input file")
expect_run(ARGS eval CODE 2 ERR "expression is required")
