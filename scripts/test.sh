#!/usr/bin/env bash
# One command that sets up everything and runs every test:
#   1. release build (warnings are errors) + all tests, including the
#      differential test against jsonata-js and the benchmark smoke run;
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer + the
#      libFuzzer targets, all tests again, plus a short fuzzing run;
#   3. ThreadSanitizer run of the concurrency tests;
#   4. clang-format and clang-tidy checks (clang-tidy runs in the background
#      from the end of the release build, on the cores the tests leave idle,
#      over the files changed since .ci/tidy-clean: see scripts/check-tidy.sh).
#   scripts/test.sh --quick   only step 1
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
jobs=$(nproc)
start=$SECONDS
# Each stage's heading says how long the run has taken so far (CI has a budget).
stage() { echo "== [$(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s] $*"; }
# ctest, and when tests fail, their output once more at the very end (where
# a CI log's tail is read), from a second run of those tests alone, which
# also tells a failure that repeats from one that does not.
run_ctest() {
  if "$@"; then return 0; fi
  echo "== the failed tests, run again alone, with their output:"
  "$@" --rerun-failed --output-on-failure || true
  return 1
}

scripts/install-deps.sh --test
(cd tests/expr/differential && npm ci --no-audit --no-fund --loglevel=error)

# The PostgreSQL tests run against Debian's cluster, started here; without
# it (not root, say) they are skipped, except in CI where that is an error.
if url=$(scripts/start-postgres.sh 2>/tmp/weft-postgres.log); then
  export WEFT_TEST_POSTGRES="${url##*$'\n'}"  # the last line, whatever came before
elif [[ "${CI:-}" == "true" ]]; then
  cat /tmp/weft-postgres.log >&2
  echo "could not start PostgreSQL for the tests" >&2
  exit 1
else
  echo "note: PostgreSQL not started (see /tmp/weft-postgres.log); its tests are skipped" >&2
fi

stage "release build and tests"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
# clang-tidy needs only the release build's compile commands: it runs from
# here on, at a low priority, in the time the test stages leave the cores
# idle (tests waiting on I/O, single-threaded fuzzing and TSan runs), and
# its verdict is read at the end.
if ((!quick)); then
  tidy_log=$(mktemp)
  # Every file takes 20-40 s of the analyzer: the files changed since the
  # last commit found clean throughout, and those including changed headers.
  nice -n 15 scripts/check-tidy.sh build/ci --since "$(cat .ci/tidy-clean 2>/dev/null)" >"$tidy_log" 2>&1 &
  tidy=$!
fi
run_ctest ctest --preset ci -j "$jobs"

if ((quick)); then exit 0; fi

stage "sanitizer build (clang, ASan+UBSan) and tests"
cmake --preset fuzz -DWEFT_BUILD_TESTS=ON >/dev/null
cmake --build --preset fuzz -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest ctest --test-dir build/fuzz -j "$jobs" --output-on-failure -E 'bench_|web_'

stage "fuzzing (short exploratory run from the checked-in corpus)"
# The corpus replay above is the regression test. This run looks for new
# failures; what it finds is reported and saved, to be fixed and added to
# fuzz/corpus, without making an unrelated change fail. The limits are low
# on purpose: every input must finish within its evaluation's budgets (time
# and memory), so 2 s or 512 MB is already a runaway. ASan's quarantine of
# freed memory is kept to 32 MB: at its default (256 MB) it alone took the
# expression fuzzer's RSS to 480 MB and past the limit at the end of a run.
mkdir -p build/fuzz/findings
for t in expr_fuzz json_fuzz workflow_fuzz script_fuzz request_fuzz document_fuzz; do
  corpus=$(mktemp -d)
  cp -r fuzz/corpus/${t%_fuzz}/. "$corpus"/
  dict=()
  [[ -f fuzz/${t%_fuzz}.dict ]] && dict=(-dict=fuzz/${t%_fuzz}.dict)
  if ! ASAN_OPTIONS=quarantine_size_mb=32 build/fuzz/fuzz/$t -max_total_time=30 -timeout=2 -rss_limit_mb=512 -max_len=512 "${dict[@]}" \
      -artifact_prefix=build/fuzz/findings/ "$corpus" > build/fuzz/findings/$t.log 2>&1; then
    echo "FUZZING FOUND A NEW FAILING INPUT for $t (see build/fuzz/findings/):"
    grep -E "ERROR|runtime error|SUMMARY" build/fuzz/findings/$t.log | head -5
  else
    tail -1 build/fuzz/findings/$t.log
  fi
  rm -rf "$corpus"
done

stage "ThreadSanitizer (concurrent evaluation, shared values, stores, the engine, the actions, knowledge bases)"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs"
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/core/core_test --gtest_brief=1 --gtest_filter='*Thread*'
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/expr/expr_test --gtest_brief=1 --gtest_filter='LimitsTest.*:ExpressionApiTest.*'
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/store/store_test --gtest_brief=1
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/engine/engine_test --gtest_brief=1
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/actions/actions_test --gtest_brief=1
TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/server/server_test --gtest_brief=1
TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/knowledge/tsan.supp" \
  build/tsan/tests/knowledge/knowledge_test --gtest_brief=1 --gtest_filter='*Searches*:*Vectors*:*Bases*:*Changing*'

stage "format and clang-tidy"
scripts/check-format.sh
if ! wait "$tidy"; then
  cat "$tidy_log"
  echo "clang-tidy found problems (above)" >&2
  exit 1
fi
cat "$tidy_log"
stage "all checks passed"
