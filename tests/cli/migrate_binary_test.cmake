# `weft migrate --to postgresql://...` through the real binary: a database
# made by `weft run` and `weft users` moves to PostgreSQL, where the same
# commands read it (with --db naming the server). Skipped without
# WEFT_TEST_POSTGRES.
include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

if("$ENV{WEFT_TEST_POSTGRES}" STREQUAL "")
  message("WEFT_TEST_POSTGRES is not set: skipped")
  return()
endif()
set(URL "$ENV{WEFT_TEST_POSTGRES}")
string(RANDOM LENGTH 8 ALPHABET "abcdefghijklmnopqrstuvwxyz" SUFFIX)
set(SCHEMA "weft_cli_${SUFFIX}")
set(DB ${WORK}/migrate.db)
file(REMOVE ${DB} ${DB}-wal ${DB}-shm)
file(WRITE ${WORK}/password.txt "a-long-password\n")

expect_run(ARGS run ${SRC}/examples/blocks/sequence.yaml --db ${DB} -q --input "{\"name\": \"Ada\"}" CODE 0)
expect_run(ARGS users add alice --role admin --db ${DB} IN ${WORK}/password.txt CODE 0)
expect_run(ARGS migrate --to "postgresql://nowhere" --db ${WORK}/missing.db CODE 2 ERR "not an SQLite database file")
expect_run(ARGS migrate --to ${WORK}/other.db --db ${DB} CODE 2 ERR "must be a PostgreSQL URL")
expect_run(ARGS migrate --to ${URL} --schema ${SCHEMA} --db ${DB} CODE 0 OUT "runs: 1 rows.*users: 1 rows.*copied")
expect_run(ARGS migrate --to ${URL} --schema ${SCHEMA} --db ${DB} CODE 1 ERR "already holds weft data")
# The server's URL with the schema as libpq's search_path option.
set(PG "${URL}?options=-csearch_path%3D${SCHEMA}")
if(URL MATCHES "\\?")
  set(PG "${URL}&options=-csearch_path%3D${SCHEMA}")
endif()
expect_run(ARGS runs list --db ${PG} CODE 0 OUT "completed +sequence")
expect_run(ARGS users list --db ${PG} CODE 0 OUT "alice  admin")
expect_run(ARGS audit verify --db ${PG} CODE 0)
# Or with weft.yaml's store: section and no --db.
file(WRITE ${WORK}/pg.yaml "store: { postgres: \"${URL}\", schema: ${SCHEMA} }\n")
set(ENV{WEFT_CONFIG} ${WORK}/pg.yaml)
expect_run(ARGS runs list CODE 0 OUT "completed +sequence")
file(WRITE ${WORK}/bad.yaml "store: { postgres: \"/not/a/url\" }\n")
set(ENV{WEFT_CONFIG} ${WORK}/bad.yaml)
expect_run(ARGS runs list CODE 2 ERR "store.postgres: expected a URL")
unset(ENV{WEFT_CONFIG})
execute_process(COMMAND psql -q -d ${URL} -c "DROP SCHEMA ${SCHEMA} CASCADE" OUTPUT_QUIET ERROR_QUIET)
