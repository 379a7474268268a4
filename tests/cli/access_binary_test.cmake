# `weft users`, `weft secrets`, `weft keys` and `weft audit` through the real
# binary and a real SQLite file: passwords and values come from stdin, every
# change lands in the audit log, and the log verifies.
include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

set(DB ${WORK}/access.db)
file(REMOVE ${DB} ${DB}-wal ${DB}-shm)
file(WRITE ${WORK}/password.txt "a-long-password\n")
file(WRITE ${WORK}/short.txt "short\n")
file(WRITE ${WORK}/value.txt "crm-token-value\n")
unset(ENV{WEFT_MASTER_KEY})

expect_run(ARGS users add alice --role admin --workflow "triage*" --db ${DB} IN ${WORK}/password.txt CODE 0
           OUT "added alice \\(admin\\)")
expect_run(ARGS users add alice --role admin --db ${DB} IN ${WORK}/password.txt CODE 2 ERR "already exists")
expect_run(ARGS users add bob --role admin --db ${DB} IN ${WORK}/short.txt CODE 2 ERR "at least 8 characters")
expect_run(ARGS users add bob --role boss --db ${DB} IN ${WORK}/password.txt CODE 2 ERR "unknown role 'boss'")
expect_run(ARGS users add bob --role viewer --db ${DB} CODE 2 ERR "no password given")
expect_run(ARGS users list --db ${DB} CODE 0 OUT "alice  admin  workflows: triage\\*")
expect_run(ARGS users passwd alice --db ${DB} IN ${WORK}/password.txt CODE 0 OUT "changed the password of alice")
expect_run(ARGS users remove nobody --db ${DB} CODE 2 ERR "no user 'nobody'")

expect_run(ARGS secrets set CRM_TOKEN --db ${DB} IN ${WORK}/value.txt CODE 2 ERR "no master key")
expect_run(ARGS secrets keygen CODE 0 OUT "^[0-9a-f]+\n$")
string(STRIP "${LAST_OUT}" KEY)
set(ENV{WEFT_MASTER_KEY} ${KEY})
expect_run(ARGS secrets set CRM_TOKEN --db ${DB} IN ${WORK}/value.txt CODE 0 OUT "set CRM_TOKEN")
expect_run(ARGS secrets set bad-name --db ${DB} IN ${WORK}/value.txt CODE 2 ERR "may only have letters")
expect_run(ARGS secrets list --db ${DB} CODE 0 OUT "^CRM_TOKEN\n$")
file(READ ${DB} BYTES HEX)
string(HEX "crm-token-value" NEEDLE)
string(FIND "${BYTES}" "${NEEDLE}" AT)
if(NOT AT EQUAL -1)
  message(FATAL_ERROR "the secret's value is in the database file in clear")
endif()
# A wrong master key is refused by what needs the secrets.
set(ENV{WEFT_MASTER_KEY} "0000000000000000000000000000000000000000000000000000000000000000")
expect_run(ARGS run ${SRC}/examples/blocks/sequence.yaml --db ${DB} -q --input "{\"name\": \"Ada\"}" CODE 2
           ERR "CRM_TOKEN' does not open with this master key")
set(ENV{WEFT_MASTER_KEY} ${KEY})
expect_run(ARGS secrets delete CRM_TOKEN --db ${DB} CODE 0 OUT "deleted CRM_TOKEN")

expect_run(ARGS keys create --name ci --role viewer --db ${DB} CODE 0 OUT "^wk_")
expect_run(ARGS audit list --db ${DB} CODE 0
           OUT "1  .*  cli:.*  user.add  user:alice.*user.change  user:alice.*secret.set  secret:CRM_TOKEN.*secret.delete  secret:CRM_TOKEN.*key.create  key:")
expect_run(ARGS audit verify --db ${DB} CODE 0 OUT "ok: 5 entries, head [0-9a-f]+")
string(REGEX MATCH "head ([0-9a-f]+)" _ "${LAST_OUT}")
expect_run(ARGS audit verify --head ${CMAKE_MATCH_1} --db ${DB} CODE 0 OUT "ok: 5 entries")
expect_run(ARGS audit verify --head 00ff --db ${DB} CODE 1 OUT "BROKEN.*expected head")
unset(ENV{WEFT_MASTER_KEY})
