// Tests of workflows (`weft test`): cases written beside a workflow, each
// with an input, what the outside world answers for that case, and what
// must come out. Every case runs offline and deterministically: its own
// in-memory store, a simulated clock, a seeded random source, and no
// network — a step that would reach outside weft without an answer in the
// case fails, naming itself.
//
//   # support-triage.test.yaml (beside support-triage.yaml)
//   workflow: support-triage.yaml          # default: the file name without ".test"
//   cases:
//     - name: an invoice question is answered from the help centre
//       input: { message: "How do I download my invoice?" }
//       mocks:                             # a step's result, by task name (AI steps, SQL, email, ...)
//         classify_issue: { issue_type: billing, urgency: low, confidence: 0.92 }
//       mock_sequences: { lookup: [{...}, {...}] }   # successive results (loops, retries)
//       failures: { notify: "SMTP server down" }     # a step fails with this (or {message, code})
//       http:                              # answers to HTTP requests (http actions, declared actions)
//         - { method: GET, url: "https://crm.example.com/customers/*", status: 200, body: { plan: pro } }
//       replies:                           # resumes, in order, for steps that wait for a person
//         - { step: escalate_to_human, with: { handed_back: true } }
//       secrets: { CRM_TOKEN: test-token } # what $secret() gives
//       now: "2026-03-01T09:00:00Z"        # the simulated clock's start (default 2026-01-01T00:00:00Z)
//       expect:
//         status: completed                # completed | failed | suspended | cancelled
//         outputs: { route: auto }         # these members, exactly (others may be there too)
//         assert: ["$contains(outputs.reply, '[1]')"]   # JSONata over {status, outputs, error, steps, path, messages,
//         cost} path: [classify_issue, find_articles, generate_answer, reply]   # the tasks run, in order ran:
//         [find_articles] not_ran: [escalate_to_human] messages: ["help centre"]        # what was said to the user, in
//         order (each a substring) error: "SMTP"                    # a substring of the run's error max_cost: 0.01 #
//         the AI steps' cost
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/store/store.h"

namespace weft::suite {

struct HttpFixture {
  std::string method;  // "" = any
  std::string url;     // exact, or a pattern with * (any characters)
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // a JSON body is written as JSON (and gets Content-Type: application/json)
};

struct Reply {
  std::string step;  // the task that must be waiting ("" = whichever)
  Value with;        // the resume payload
};

struct Expectation {
  std::string status;  // "" = not checked
  Value outputs;       // an object (undefined = not checked)
  std::vector<std::string> asserts;
  std::optional<std::vector<std::string>> path;
  std::vector<std::string> ran;
  std::vector<std::string> not_ran;
  std::optional<std::vector<std::string>> messages;
  std::string error;
  std::optional<double> max_cost;
};

struct Case {
  std::string name;
  Value input;
  std::map<std::string, std::vector<Value>> mocks;  // task -> results (the last one repeats)
  std::map<std::string, Status> failures;           // task -> the error it fails with
  std::vector<HttpFixture> http;
  std::vector<Reply> replies;
  std::map<std::string, std::string> secrets;
  int64_t now_ms = 0;
  Expectation expect;
};

struct TestFile {
  std::string path;
  std::string workflow_path;
  std::vector<Case> cases;
};

// Reads a test file; errors name the file, the case and the key.
Result<TestFile> ReadTestFile(const std::string& path);

// The test files `paths` name: a test file itself; a workflow file (its
// `<name>.test.yaml` and the files of a `tests/` folder beside it that
// name it); a folder (every `*.test.yaml` below it, and `tests/*.yaml`).
// NotFound for a path that is none of these.
Result<std::vector<std::string>> FindTestFiles(const std::vector<std::string>& paths);

struct Failure {
  std::string what;  // "outputs.route", "path", "assert $contains(...)", "status"
  std::string expected;
  std::string actual;
};

struct CaseResult {
  std::string file;
  std::string name;
  bool passed = false;
  std::vector<Failure> failures;
  int64_t duration_ms = 0;
  std::string status;  // of the run
  Value outputs;
};

struct SuiteOptions {
  std::string config_path;  // weft.yaml ("" = $WEFT_CONFIG, else ./weft.yaml when present)
  int jobs = 2;             // cases run at once
};

// Runs every case of every file; a file that cannot be read or whose
// workflow does not load is an error (nothing runs).
Result<std::vector<CaseResult>> RunTests(const std::vector<std::string>& files, const SuiteOptions& options);

// The report a person reads: one line per case, and for each failure what
// was expected beside what came (a diff for outputs).
std::string TextReport(const std::vector<CaseResult>& results);
// JUnit XML for CI systems.
std::string JUnitReport(const std::vector<CaseResult>& results);

// A test case made from a recorded run (`weft test record RUN`): its input,
// the results of the steps that reached outside weft (AI steps, HTTP, SQL,
// email, retrieval) as mocks, its resumes as replies, and what it produced
// as expectations. Step inputs (where secrets would be) are not copied.
// Returns the case as YAML (a `cases:` list item).
Result<std::string> RecordCase(store::Store& store, const std::string& run_id);

}  // namespace weft::suite
