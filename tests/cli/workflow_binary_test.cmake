# The workflow commands, end to end through the real binary and a real
# SQLite file: run, suspend, resume, inspect, validate.
include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

set(DB ${WORK}/cli.db)
file(REMOVE ${DB} ${DB}-wal ${DB}-shm)
set(WF ${SRC}/examples/support-triage.yaml)

expect_run(ARGS validate ${WF} ${SRC}/tests/dsl/valid/hexabot_style.yaml CODE 0 OUT "support-triage.yaml: ok")
expect_run(ARGS validate ${SRC}/tests/dsl/invalid/unknown_names.yaml ${SRC}/tests/dsl/invalid/settings.yaml CODE 1
           ERR "unknown_names.yaml:14:9: error: unknown task 'clasify_issue' \\(did you mean 'classify_issue'\\?\\).*settings.yaml:11:29: error.*settings.yaml:23:22: error: unknown schema type.*11 errors, 0 warnings")
expect_run(ARGS validate /nonexistent.yaml CODE 1 ERR "workflow file: cannot read '/nonexistent.yaml': No such file")
expect_run(ARGS validate /dev/zero CODE 1 ERR "workflow file: '/dev/zero' is larger than 64 MiB")
expect_run(ARGS run ${WF} --db ${DB} --input @/dev/zero CODE 2 ERR "--input file: '/dev/zero' is larger than 64 MiB")
expect_run(ARGS run ${WF} --db ${DB} --input @${WORK} CODE 2 ERR "--input file: '.*' is a directory, not a file")

expect_run(ARGS run ${WF} --db ${DB} --input "{\"message\": \"How do I download my invoice?\"}" CODE 0
           OUT "completed 0:classify_issue.*completed 1.branch.1.1:generate_answer.*\"route\": \"auto\"")
# With the examples' weft.yaml the answer comes from the help centre's article, cited.
expect_run(ARGS run ${WF} --db ${WORK}/kb.db --config ${SRC}/examples/weft.yaml
                --input "{\"message\": \"How do I download my invoice?\"}" CODE 0
           OUT "completed 1.branch.1.0:find_articles.*\"reply\": \"From our help centre, Download your invoices: 1. Sign in.* \\[1\\] https://help.example.com/billing/download-invoice\".*\"sources\": \\[")
expect_run(ARGS validate ${WF} --config ${SRC}/examples/weft.yaml CODE 0 OUT "support-triage.yaml: ok")
expect_run(ARGS run ${WF} --db ${DB} --json --input "{\"message\": \"I was charged twice and nobody answered\"}"
           CODE 0 OUT "\"status\": \"suspended\".*\"kind\": \"handover\".*\"steps\": \\[")
string(REGEX MATCH "\"run_id\": \"([0-9A-Z]+)\"" _ "${LAST_OUT}")
set(RUN ${CMAKE_MATCH_1})
expect_run(ARGS resume ${RUN} --db ${DB} --with "{\"by\": \"ana\"}" CODE 0 OUT "run ${RUN} completed.*\"route\": \"human\"")
expect_run(ARGS resume ${RUN} --db ${DB} --with "{}" CODE 2 ERR "is completed, not suspended")
expect_run(ARGS runs show ${RUN} --db ${DB} CODE 0
           OUT "suspended 1.branch.0.0:escalate_to_human.*completed 1.branch.0.0:escalate_to_human.*said \\[handover\\] {\"queue\":\"billing\"")
expect_run(ARGS runs list --db ${DB} --status completed CODE 0 OUT "${RUN}  completed")
expect_run(ARGS runs list --db ${DB} --status bogus CODE 2 ERR "unknown status 'bogus'")
expect_run(ARGS run ${WF} --db ${DB} --input "{\"msg\": 1}" CODE 2 ERR "input field 'msg'|message")
expect_run(ARGS run ${WF} --db ${DB} --input "{not json" CODE 2 ERR "--input is not valid JSON")

# Every flow-block example runs to completion (or to its approval).
set(B ${SRC}/examples/blocks)
expect_run(ARGS run ${B}/sequence.yaml --db :memory: -q --input "{\"name\": \"Ada\"}" CODE 0 OUT "HELLO, ADA!")
expect_run(ARGS run ${B}/conditional.yaml --db :memory: -q --input "{\"amount\": 1200}" CODE 0
           OUT "\"tier\": \"big\",.*\"review\": true")
expect_run(ARGS run ${B}/parallel.yaml --db :memory: -q CODE 0 OUT "\"open_tickets\": 2")
expect_run(ARGS run ${B}/loop.yaml --db :memory: -q
           --input "{\"orders\": [{\"id\": \"a\", \"total\": 20}, {\"id\": \"b\", \"total\": 5}]}" CODE 0
           OUT "\"total\": 30,.*\"attempts\": 3")
expect_run(ARGS run ${B}/call_workflow.yaml --db :memory: -q CODE 0 OUT "HELLO, GRACE!")
expect_run(ARGS run ${B}/errors.yaml --db :memory: -q CODE 0 OUT "\"crm\": \"UNAVAILABLE\"")
expect_run(ARGS run ${B}/approval.yaml --db ${DB} --json --input "{\"amount\": 120}" CODE 0 OUT "\"kind\": \"approval\"")
string(REGEX MATCH "\"run_id\": \"([0-9A-Z]+)\"" _ "${LAST_OUT}")
expect_run(ARGS resume ${CMAKE_MATCH_1} --db ${DB} --with "{\"approved\": \"yes\"}" CODE 2
           ERR "resume payload for 'ask' field 'approved'")
expect_run(ARGS resume ${CMAKE_MATCH_1} --db ${DB} --with "{\"approved\": true, \"by\": \"ana\", \"data\": {\"amount\": 80}}"
           CODE 0 OUT "\"refunded\": 80,.*\"reviewer\": \"ana\"")

# The deployment's configuration: a misspelt or wrong key is refused with the
# file and the key, never ignored.
set(CONFIG ${WORK}/weft-config-test.yaml)
set(ENV{WEFT_CONFIG} ${CONFIG})
function(expect_config_refused CONTENT ERR)
  file(WRITE ${CONFIG} "${CONTENT}")
  expect_run(ARGS run ${WF} --db :memory: -q --input "{\"message\": \"hi\"}" CODE 2 ERR "${ERR}")
endfunction()
expect_config_refused("email:\n  url: smtp://127.0.0.1:25\n  pasword_env: SMTP_PASSWORD\n"
                      "weft-config-test.yaml: email: unknown key 'pasword_env' \\(url, tls, username, password_env")
expect_config_refused("connections:\n  crm: { driver: mysql, url: x }\n"
                      "weft-config-test.yaml: connections.crm: unknown driver 'mysql'")
expect_config_refused("email: { url: smtp://127.0.0.1:25, timeout_ms: fast }\n"
                      "email.timeout_ms must be a whole number from 1 to 86400000")
expect_config_refused("email: { url: smtp://127.0.0.1:25, threads: 1e9 }\n"
                      "email.threads must be a whole number from 1 to 64")
expect_config_refused("expressions: { timeout_ms: fast }\n"
                      "weft-config-test.yaml: expressions.timeout_ms must be a whole number from 1 to 86400000")
expect_config_refused("expressions: { max_memory: 1 }\n"
                      "weft-config-test.yaml: expressions: unknown key 'max_memory' \\(timeout_ms, max_memory_mb\\)")
# The memory budget of a workflow's expressions comes from weft.yaml.
set(BIG ${WORK}/big.yaml)
file(WRITE ${BIG} "name: big\ndefs:\n  s: { kind: task, action: set, inputs: { n: \"=$count([1..1000000])\" } }\n"
                  "flow:\n  - do: s\n")
file(WRITE ${CONFIG} "expressions: { max_memory_mb: 1 }\n")
expect_run(ARGS run ${BIG} --db :memory: CODE 1 OUT "U1005.*more than 1 MB")
file(WRITE ${CONFIG} "")
expect_run(ARGS run ${BIG} --db :memory: CODE 0 OUT "\"n\": 1000000|n.*1000000")
expect_run(ARGS run ${WF} --db :memory: -q --input "{\"message\": \"How do I download my invoice?\"}" CODE 0)
unset(ENV{WEFT_CONFIG})

# --input is a JSON object, read strictly.
expect_run(ARGS run ${WF} --db :memory: --input "[1, 2]" CODE 2 ERR "--input must be a JSON object .*not an array")
expect_run(ARGS run ${WF} --db :memory: --input "\"hi\"" CODE 2 ERR "--input must be a JSON object .*not a string")
expect_run(ARGS run ${WF} --db :memory: --input "{\"message\": \"a\", \"message\": \"b\"}" CODE 2
           ERR "column 18: duplicate key \"message\"")
expect_run(ARGS run ${WF} --db :memory: --input "{\"message\": 1e400}" CODE 2 ERR "number out of range: 1e400")

# Each load warning is printed once.
set(WARNS ${WORK}/warns.yaml)
file(WRITE ${WARNS} "name: warns\ndefs:\n  s: { kind: task, action: log, inputs: { message: hi } }\n"
                    "  unused: { kind: task, action: log, inputs: { message: hi } }\nflow:\n  - do: s\n")
expect_run(ARGS run ${WARNS} --db :memory: CODE 0 ERR "task 'unused' is never used")
string(REGEX MATCHALL "never used" _times "${LAST_ERR}")
list(LENGTH _times _count)
if(NOT _count EQUAL 1)
  message(FATAL_ERROR "the warning was printed ${_count} times:\n${LAST_ERR}")
endif()

# runs show --json: the input, each task's results so far (also while the
# run waits) and the spend, zeros when no model was called.
expect_run(ARGS run ${WF} --db ${DB} --json --input "{\"message\": \"I was charged twice and nobody answered\"}"
           CODE 0 OUT "\"status\": \"suspended\"")
string(REGEX MATCH "\"run_id\": \"([0-9A-Z]+)\"" _ "${LAST_OUT}")
set(RUN ${CMAKE_MATCH_1})
if(LAST_OUT MATCHES "\"outputs\": null")
  message(FATAL_ERROR "a waiting run printed outputs: null:\n${LAST_OUT}")
endif()
expect_run(ARGS runs show ${RUN} --db ${DB} --json CODE 0
           OUT "\"input\": {\n    \"message\": \"I was charged twice.*\"results\": {\n    \"classify_issue\": {.*\"spend\": {\n    \"cost\": 0,")

# weft test: the example's cases pass offline (examples/weft.yaml found beside them); a failing case exits 1
# with what was expected and what came, and a JUnit report; `test record` turns a recorded run into a case.
expect_run(ARGS test ${SRC}/examples CODE 0 OUT "ok    an invoice question is answered.*[0-9]+ cases: [0-9]+ passed, 0 failed")
file(MAKE_DIRECTORY ${WORK}/wftests)
file(COPY ${WF} DESTINATION ${WORK}/wftests)
file(WRITE ${WORK}/wftests/support-triage.test.yaml "cases:
  - name: expects the wrong route
    input: { message: \"How do I download my invoice?\" }
    expect: { outputs: { route: human } }
")
expect_run(ARGS test ${WORK}/wftests/support-triage.yaml --junit ${WORK}/junit.xml CODE 1
           OUT "FAIL  expects the wrong route.*outputs.route:.*expected: \"human\".*actual:   \"auto\".*1 case: 0 passed, 1 failed")
file(READ ${WORK}/junit.xml junit)
if(NOT junit MATCHES "<testcase classname=\"[^\"]*support-triage.test.yaml\" name=\"expects the wrong route\"")
  message(FATAL_ERROR "junit report: ${junit}")
endif()
expect_run(ARGS test ${WORK}/nothing-here CODE 2 ERR "no such file or folder")
expect_run(ARGS run ${WF} --db ${DB} --json --input "{\"message\": \"Where can I download my invoices for taxes?\"}" CODE 0)
string(REGEX MATCH "\"run_id\": \"([0-9A-Z]+)\"" _ "${LAST_OUT}")
expect_run(ARGS test record ${CMAKE_MATCH_1} --db ${DB} CODE 0
           OUT "- name: \"recorded from run.*input: {\"message\":\"Where can I download my invoices for taxes\\?\"}.*mocks:.*classify_issue: .*expect:.*status: completed")
file(WRITE ${WORK}/wftests/support-triage.test.yaml "cases:\n${LAST_OUT}")
expect_run(ARGS test ${WORK}/wftests CODE 0 OUT "1 case: 1 passed, 0 failed")

# eval-dataset: the labelled test set through the classification step alone, on the local model.
expect_run(ARGS eval-dataset ${SRC}/examples/data/support-triage.test.jsonl --workflow ${WF} --step classify_issue
                --input "{\"message\": text}" --fields issue_type,urgency
           CODE 0 OUT "\\| 123 examples \\| support-triage.yaml \\|.*\\| issue_type accuracy \\| [0-9.]+% \\([0-9]+/123\\) \\|.*rows: expected, columns: answered")
expect_run(ARGS eval-dataset ${SRC}/examples/data/support-triage.test.jsonl --workflow ${WF} --step reply --fields issue_type
           CODE 2 ERR "'reply' is not an AI step")
