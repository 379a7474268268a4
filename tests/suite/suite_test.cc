// `weft test`'s runner: cases pass and fail for the right reasons, nothing
// reaches outside weft, time is simulated, and a recorded run becomes a
// case that passes.
#include "weft/suite/suite.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "weft/actions/builtin.h"
#include "weft/core/crypto.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::suite {
namespace {

namespace fs = std::filesystem;

// A workflow that reaches a CRM over HTTP, a database and a model, waits an
// hour, and asks a person to approve.
constexpr const char* kRefund = R"yaml(
workflow: { name: refund }
inputs:
  schema:
    customer: { type: string, required: true }
    amount: { type: number, required: true }
defs:
  crm:
    kind: task
    action: http
    inputs:
      url: "='https://crm.example.com/customers/' & $input.customer"
      headers: { Authorization: "='Bearer ' & $secret('CRM_TOKEN')" }
  ledger:
    kind: task
    action: sql
    inputs: { connection: ledger, query: "select balance from accounts where id = ?", params: ["=$input.customer"] }
  decide:
    kind: task
    action: classify
    inputs: { text: "='refund of ' & $string($input.amount)" }
    settings: { model: smart, labels: [approve, review] }
  cool_off:
    kind: task
    action: wait
    inputs: { duration_ms: 3600000 }
  approve:
    kind: task
    action: approval
    inputs: { item: "=$input" }
  done:
    kind: task
    action: set
    inputs: { at: "=$now()" }
permissions:
  network: { hosts: [crm.example.com] }
  sql: { ledger: read }
flow:
  - do: crm
  - do: ledger
  - do: decide
  - conditional:
      when:
        - condition: "$output.decide.label = 'review'"
          steps:
            - do: cool_off
            - do: approve
  - do: done
outputs:
  plan: "=$output.crm.body.plan"
  balance: "=$output.ledger.rows[0].balance"
  label: "=$output.decide.label"
  approved: "=$exists($output.approve) ? $output.approve.approved : null"
  finished_at: "=$output.done.at"
)yaml";

constexpr const char* kConfig = R"yaml(
models:
  smart: { provider: openai, model: gpt-test, base_url: "http://127.0.0.1:9/v1", api_key_env: HOME }
connections:
  ledger: { driver: postgres, url_env: WEFT_SUITE_TEST_UNSET_URL }
)yaml";

class SuiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weft_suite_" + std::to_string(::getpid()) + "_" + RandomHex(4));
    fs::create_directories(dir_);
    Write("refund.yaml", kRefund);
    Write("weft.yaml", kConfig);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  std::vector<CaseResult> Run(const std::string& test_yaml) {
    Write("refund.test.yaml", test_yaml);
    SuiteOptions o;
    o.config_path = (dir_ / "weft.yaml").string();
    Result<std::vector<CaseResult>> r = RunTests({(dir_ / "refund.test.yaml").string()}, o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<CaseResult>{};
  }

  static std::string Failures(const CaseResult& r) {
    std::string out;
    for (const Failure& f : r.failures) out += f.what + ": expected " + f.expected + ", got " + f.actual + "\n";
    return out;
  }

  fs::path dir_;
};

constexpr const char* kAnswers = R"yaml(
    secrets: { CRM_TOKEN: t0ken }
    http:
      - { method: GET, url: "https://crm.example.com/customers/*", body: { plan: pro } }
    mocks:
      ledger: { rows: [{ balance: 120 }], row_count: 1 }
)yaml";

TEST_F(SuiteTest, ACaseWithEveryAnswerPassesAndTimePassesOnItsOwnClock) {
  std::vector<CaseResult> r = Run(std::string(R"yaml(
cases:
  - name: a review waits an hour, then a person approves
    input: { customer: c42, amount: 90 }
    now: "2026-03-01T09:00:00Z"
    mocks:
      ledger: { rows: [{ balance: 120 }], row_count: 1 }
      decide: { label: review, confidence: 0.8 }
    secrets: { CRM_TOKEN: t0ken }
    http:
      - { method: GET, url: "https://crm.example.com/customers/*", body: { plan: pro } }
    replies:
      - { step: approve, with: { approved: true } }
    expect:
      status: completed
      outputs: { plan: pro, balance: 120, label: review, approved: true }
      path: [crm, ledger, decide, cool_off, approve, done]
      assert:
        - "outputs.finished_at = '2026-03-01T10:00:00.000Z'"
        - "steps.crm.status = 200"
)yaml"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed) << Failures(r[0]);
}

TEST_F(SuiteTest, FailuresSayWhatWasExpectedAndWhatCame) {
  std::vector<CaseResult> r = Run(std::string(R"yaml(
cases:
  - name: wrong expectations
    input: { customer: c42, amount: 90 }
    mocks:
      ledger: { rows: [{ balance: 120 }], row_count: 1 }
      decide: { label: approve, confidence: 0.9 }
    secrets: { CRM_TOKEN: t0ken }
    http:
      - { url: "https://crm.example.com/customers/c42", body: { plan: basic } }
    expect:
      outputs: { plan: pro, label: approve }
      path: [crm, ledger, decide, approve, done]
      ran: [approve]
      not_ran: [crm]
      assert: ["outputs.balance > 500"]
)yaml"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].passed);
  const std::string f = Failures(r[0]);
  EXPECT_NE(f.find("outputs.plan: expected \"pro\", got \"basic\""), std::string::npos) << f;
  EXPECT_EQ(f.find("outputs.label"), std::string::npos) << f;
  EXPECT_NE(f.find("path: expected [crm, ledger, decide, approve, done], got [crm, ledger, decide, done]"),
            std::string::npos)
      << f;
  EXPECT_NE(f.find("ran: expected approve runs"), std::string::npos) << f;
  EXPECT_NE(f.find("not_ran: expected crm does not run"), std::string::npos) << f;
  EXPECT_NE(f.find("assert outputs.balance > 500: expected true, got false"), std::string::npos) << f;
  const std::string report = TextReport(r);
  EXPECT_NE(report.find("  FAIL  wrong expectations"), std::string::npos) << report;
  EXPECT_NE(report.find("1 case: 0 passed, 1 failed"), std::string::npos) << report;
  const std::string junit = JUnitReport(r);
  EXPECT_NE(junit.find("<testsuite name=\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("tests=\"1\" failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("<failure message=\"outputs.plan\">"), std::string::npos) << junit;
}

TEST_F(SuiteTest, NothingReachesOutsideWeftWithoutAnAnswerInTheCase) {
  std::vector<CaseResult> r = Run(R"yaml(
cases:
  - name: no fixture for the CRM
    input: { customer: c42, amount: 90 }
    secrets: { CRM_TOKEN: t0ken }
    expect: { status: failed, error: "unexpected HTTP request GET https://crm.example.com/customers/c42" }
  - name: no answer for the database
    input: { customer: c42, amount: 90 }
    secrets: { CRM_TOKEN: t0ken }
    http: [{ url: "https://crm.example.com/*", body: {} }]
    expect: { status: failed, error: "step 'ledger' (action 'sql') would reach outside weft" }
  - name: no answer for the model
    input: { customer: c42, amount: 90 }
    secrets: { CRM_TOKEN: t0ken }
    http: [{ url: "https://crm.example.com/*", body: {} }]
    mocks: { ledger: { rows: [], row_count: 0 } }
    expect: { status: failed, error: "give this AI step's result in the case's `mocks:`" }
  - name: a step made to fail takes its error
    input: { customer: c42, amount: 90 }
    secrets: { CRM_TOKEN: t0ken }
    failures: { crm: { message: "CRM is down", code: UNAVAILABLE } }
    expect: { status: failed, error: "CRM is down" }
)yaml");
  ASSERT_EQ(r.size(), 4u);
  for (const CaseResult& c : r) EXPECT_TRUE(c.passed) << c.name << "\n" << Failures(c);
}

TEST_F(SuiteTest, BadTestFilesNameTheCaseAndTheKey) {
  Write("bad.test.yaml", "workflow: refund.yaml\ncases:\n  - name: x\n    expect: { staus: completed }\n");
  Result<TestFile> t = ReadTestFile((dir_ / "bad.test.yaml").string());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("cases[0] ('x').expect: unknown key 'staus'"), std::string::npos) << t.status();
  Write("bad.test.yaml", "cases:\n  - name: x\n    expect: { assert: ['$count('] }\n");
  EXPECT_NE(ReadTestFile((dir_ / "bad.test.yaml").string()).status().message().find(".expect.assert: '$count('"),
            std::string::npos);
  Write("bad.test.yaml", "cases:\n  - name: x\n  - name: x\n");
  EXPECT_NE(ReadTestFile((dir_ / "bad.test.yaml").string()).status().message().find("two cases are named 'x'"),
            std::string::npos);
  Write("bad.test.yaml", "cases:\n  - name: x\n    now: yesterday\n");
  EXPECT_NE(ReadTestFile((dir_ / "bad.test.yaml").string()).status().message().find(".now: expected an ISO 8601"),
            std::string::npos);
  // A workflow that does not load: nothing runs.
  Write("broken.yaml", "workflow: { name: broken }\nflow:\n  - do: nowhere\n");
  Write("broken.test.yaml", "cases:\n  - name: x\n");
  Result<std::vector<CaseResult>> r = RunTests({(dir_ / "broken.test.yaml").string()}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown task 'nowhere'"), std::string::npos) << r.status();
}

TEST_F(SuiteTest, TestFilesAreFoundBesideWorkflowsAndInFolders) {
  Write("refund.test.yaml", "cases:\n  - name: x\n");
  fs::create_directories(dir_ / "tests");
  Write("tests/more.yaml", "workflow: ../refund.yaml\ncases:\n  - name: y\n");
  Result<std::vector<std::string>> in_folder = FindTestFiles({dir_.string()});
  ASSERT_TRUE(in_folder.ok());
  EXPECT_EQ(in_folder->size(), 2u);
  Result<std::vector<std::string>> beside = FindTestFiles({(dir_ / "refund.yaml").string()});
  ASSERT_TRUE(beside.ok());
  EXPECT_EQ(*beside, std::vector<std::string>{(dir_ / "refund.test.yaml").string()});
  EXPECT_EQ(FindTestFiles({(dir_ / "weft.yaml").string()}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindTestFiles({(dir_ / "missing").string()}).status().code(), StatusCode::kNotFound);
}

// A run of the real engine, recorded into a case, passes as a test.
TEST_F(SuiteTest, ARecordedRunBecomesACaseThatPasses) {
  constexpr const char* kGreeter = R"yaml(
workflow: { name: greeter }
defs:
  ask:
    kind: task
    action: await_user_input
    inputs: { prompt: "Your name?" }
  shout:
    kind: task
    action: set
    inputs: { text: "=$uppercase($output.ask.text)" }
flow: [{ do: ask }, { do: shout }]
outputs: { greeting: "='HELLO ' & $output.shout.text" }
)yaml";
  Write("greeter.yaml", kGreeter);
  engine::ActionRegistry actions;
  ASSERT_TRUE(actions::RegisterBuiltinActions(actions).ok());
  std::unique_ptr<store::Store> store = store::NewMemoryStore();
  engine::EngineOptions eo;
  eo.store = store.get();
  eo.actions = &actions;
  std::unique_ptr<engine::Engine> engine = engine::Engine::Create(std::move(eo)).value();
  auto wf = dsl::LoadWorkflow(kGreeter, "greeter.yaml", actions).value();
  const int64_t v = engine->Deploy(wf).value();
  const std::string id = engine->Start("greeter", v, Value::MakeObject()).value();
  ASSERT_EQ(engine->Wait(id)->status, store::RunStatus::kSuspended);
  Value answer = Value::MakeObject();
  answer.set("text", "ada");
  ASSERT_TRUE(engine->Resume(id, answer).ok());
  ASSERT_EQ(engine->Wait(id)->status, store::RunStatus::kCompleted);

  Result<std::string> yaml = RecordCase(*store, id);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_NE(yaml->find("replies:"), std::string::npos) << *yaml;
  Write("greeter.test.yaml", "cases:\n" + *yaml);
  Result<std::vector<CaseResult>> r = RunTests({(dir_ / "greeter.test.yaml").string()}, {});
  ASSERT_TRUE(r.ok()) << r.status() << "\n" << *yaml;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_TRUE(r->front().passed) << Failures(r->front()) << *yaml;
  EXPECT_EQ(r->front().outputs.get("greeting"), Value("HELLO ADA"));
}

}  // namespace
}  // namespace weft::suite
