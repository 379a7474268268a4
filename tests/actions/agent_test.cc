// The agent step in real runs: the fake model provider scripts the tool
// calls, the fake CRM serves them, the runs live in SQLite. An engine
// stopped mid-loop and a new one taking over repeat no tool call.
#include <gtest/gtest.h>

#include "fake_crm.h"
#include "fake_provider.h"
#include "temp_db.h"
#include "weft/actions/builtin.h"
#include "weft/actions/http.h"
#include "weft/ai/actions.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/sqlite_store.h"

namespace weft::actions {
namespace {

using testing::FakeCrm;
using testing::FakeProvider;
using testing::ProviderCall;
using testing::ProviderReply;

constexpr const char* kAgentFlow = R"yaml(
workflow: { name: helper }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
actions:
  check_account:
    description: Finds the customer's account by email
    inputs: { email: { type: string, required: true } }
    implementation:
      action: http
      inputs: { url: "{crm}/accounts", query: { email: "=$input.email" } }
      settings: { fail_on_status: false, map: "status = 200 ? body : { 'error': 'no account' }" }
  create_ticket:
    description: Opens a support ticket
    sensitive: true
    inputs: { subject: { type: string, required: true }, account: { type: string } }
    implementation:
      action: http
      inputs: { url: "{crm}/tickets", json: { subject: "=$input.subject", account: "=$input.account" } }
      settings: { map: body }
defs:
  help:
    kind: task
    action: agent
    inputs: { goal: "=$input.message" }
    settings:
      model: smart
      tools: [check_account, create_ticket]
      max_iterations: MAX_ITERATIONS
      max_cost: MAX_COST
      output_schema:
        type: object
        required: [ticket]
        properties: { ticket: { type: string } }
flow:
  - do: help
outputs: { result: "=$output.help" }
)yaml";

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { crm_.AddAccount("ada@example.com", "Ada", "pro"); }
  // A new process, as far as the run is concerned: fresh registry, store
  // handle and engine over the same database.
  void Boot(FakeProvider& model) {
    engine_.reset();
    store_.reset();
    registry_ = std::make_unique<engine::ActionRegistry>();
    client_ = http::NewCurlClient();
    ASSERT_TRUE(RegisterBuiltinActions(*registry_).ok());
    ASSERT_TRUE(RegisterHttpActions(*registry_, {.client = client_.get()}).ok());
    ai::Env env = [&model](std::string_view name) -> std::optional<std::string> {
      if (name == "OPENAI_BASE_URL") return model.base_url();
      return std::nullopt;
    };
    auto models = ai::Models::FromConfig(
        *ParseJson(R"({"smart":{"provider":"openai","model":"big-1","price":{"input_per_1k":1,"output_per_1k":1}}})"),
        client_.get(), env);
    ASSERT_TRUE(models.ok()) << models.status();
    store_ = std::move(store::OpenSqliteStore({.path = db_.path()})).value();
    ASSERT_TRUE(ai::RegisterAiActions(*registry_, {.models = *models, .store = store_.get()}).ok());
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = registry_.get();
    o.lease_ms = 300;
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
  }
  std::string Yaml(int max_iterations = 6, double max_cost = 10) {
    std::string y = kAgentFlow;
    for (size_t p; (p = y.find("{crm}")) != std::string::npos;) y.replace(p, 5, crm_.url());
    y.replace(y.find("MAX_ITERATIONS"), 14, std::to_string(max_iterations));
    y.replace(y.find("MAX_COST"), 8, std::to_string(max_cost));
    return y;
  }
  std::string Start(const std::string& yaml) {
    auto wf = dsl::LoadWorkflow(yaml, "helper.yaml", *registry_);
    EXPECT_TRUE(wf.ok()) << wf.status();
    auto version = engine_->Deploy(*wf);
    Value input = Value::MakeObject();
    input.set("message", "I am ada@example.com and I was charged twice");
    return *engine_->Start("helper", *version, input);
  }
  static ProviderReply Call(const char* name, const char* args) {
    ProviderReply r;
    r.tool_calls.push_back({name, args});
    return r;
  }

  FakeCrm crm_;
  testing::TempDb db_{"weft_agent"};  // before the store: outlives it
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<engine::ActionRegistry> registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

// The model's side of the conversation, by turn (it sees the tool results).
ProviderReply Script(const ProviderCall& call) {
  const Value messages = call.body.get("messages");
  const size_t tool_results = [&] {
    size_t n = 0;
    for (const Value& m : messages.as_array()) n += m.get("role") == Value("tool") ? 1 : 0;
    return n;
  }();
  if (tool_results == 0) {
    ProviderReply r;
    r.tool_calls.push_back({"check_account", R"({"email":"ada@example.com"})"});
    return r;
  }
  if (tool_results == 1) {
    ProviderReply r;
    r.tool_calls.push_back({"create_ticket", R"({"subject":"charged twice","account":"acc_1"})"});
    return r;
  }
  return ProviderReply::Text(R"({"ticket":"T-1000"})");
}

TEST_F(AgentTest, CallsToolsDurablyAndWaitsForApprovalOfTheSensitiveOne) {
  FakeProvider model(Script);
  Boot(model);
  const std::string id = Start(Yaml());
  auto run = *engine_->Wait(id);
  ASSERT_EQ(run.status, store::RunStatus::kSuspended) << run.error;
  EXPECT_EQ(run.wait.get("kind"), Value("approval"));
  EXPECT_EQ(run.wait.get("path"), Value("0:help/turn.1.tool.0/approval"));
  EXPECT_EQ(run.wait.get("data").get("action"), Value("create_ticket"));
  EXPECT_EQ(crm_.requests_to("/accounts"), 1);
  EXPECT_EQ(crm_.requests_to("/tickets"), 0);  // not before a human says yes
  EXPECT_EQ(model.call_count(), 2);
  // The model saw the tool's result.
  const std::string seen = ToJson(model.calls()[1].body.get("messages"));
  EXPECT_NE(seen.find("acc_1"), std::string::npos) << seen;

  // Another process approves and finishes the run: nothing done is redone.
  Boot(model);
  ASSERT_TRUE(engine_->Resume(id, *ParseJson(R"({"approved":true,"by":"lea"})")).ok());
  run = *engine_->Wait(id);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs.get("result").get("answer")), R"({"ticket":"T-1000"})");
  EXPECT_EQ(run.outputs.get("result").get("iterations"), Value(3));
  EXPECT_EQ(run.outputs.get("result").get("tool_calls"), Value(2));
  EXPECT_EQ(crm_.requests_to("/accounts"), 1);
  EXPECT_EQ(crm_.tickets().size(), 1u);
  EXPECT_EQ(model.call_count(), 3);

  // Every model turn and tool call has its own history entry.
  std::vector<std::string> paths;
  const std::vector<store::StepRecord> steps = store_->GetSteps(id).value();
  for (const auto& s : steps) {
    if (s.status == store::StepStatus::kCompleted) paths.push_back(s.path + " " + s.action);
  }
  const std::vector<std::string> expected = {"0:help/turn.0 agent_turn",
                                             "0:help/turn.0.tool.0 check_account",
                                             "0:help/turn.1 agent_turn",
                                             "0:help/turn.1.tool.0/approval approval",
                                             "0:help/turn.1.tool.0 create_ticket",
                                             "0:help/turn.2 agent_turn",
                                             "0:help agent"};
  EXPECT_EQ(paths, expected);
}

TEST_F(AgentTest, AnEngineStoppedMidLoopIsTakenOverWithoutRepeatingToolCalls) {
  // The second model turn is slow: the engine goes away while it waits.
  FakeProvider model([](const ProviderCall& call) {
    ProviderReply r = Script(call);
    if (call.index == 1) r.delay_ms = 400;
    return r;
  });
  Boot(model);
  const std::string yaml = Yaml();
  std::string replaced = yaml;
  replaced.replace(replaced.find("    sensitive: true\n"), 20, "");  // no approval: it runs straight through
  const std::string id = Start(replaced);
  // The second turn has begun once the model is asked again: the tool call
  // before it is recorded by then. (That the CRM has seen the call is not
  // enough: an engine stopped before recording it makes the call again.)
  for (int i = 0; i < 400 && model.call_count() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(model.call_count(), 2);
  ASSERT_EQ(crm_.requests_to("/accounts"), 1);
  Boot(model);  // the old engine is gone mid-turn; its lease runs out
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto picked = engine_->Recover();
  ASSERT_TRUE(picked.ok()) << picked.status();
  EXPECT_EQ(*picked, 1);
  auto run = *engine_->Wait(id);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(crm_.requests_to("/accounts"), 1);  // replayed, not called again
  EXPECT_EQ(crm_.tickets().size(), 1u);
}

// A model that never stops calling tools; each turn costs 2 (2,000 tokens
// at 1 per 1k).
ProviderReply NeverAnswers(const ProviderCall&) {
  ProviderReply r;
  r.tool_calls.push_back({"check_account", R"({"email":"ada@example.com"})"});
  r.input_tokens = 1000;
  r.output_tokens = 1000;
  return r;
}

TEST_F(AgentTest, StopsAtItsLimits) {
  FakeProvider looping(NeverAnswers);
  Boot(looping);
  auto run = *engine_->Wait(Start(Yaml(3, 100)));
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("no final answer within 3 turns"), std::string::npos) << run.error;
  EXPECT_EQ(looping.call_count(), 3);

  // A max_cost of 3 allows two turns.
  run = *engine_->Wait(Start(Yaml(10, 3)));
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "RESOURCE_EXHAUSTED");
  EXPECT_NE(run.error.find("max_cost"), std::string::npos) << run.error;
  EXPECT_EQ(looping.call_count(), 5);
}

TEST_F(AgentTest, TheRunsBudgetStopsItsTurnsAndCountsTheirSpend) {
  FakeProvider looping(NeverAnswers);
  Boot(looping);
  // After three turns the run has spent 6, past its budget of 5.
  std::string yaml = Yaml(10, 100);
  yaml.replace(yaml.find("      max_cost:"), 0, "      budget: { per_run: 5 }\n");
  const std::string id = Start(yaml);
  auto run = *engine_->Wait(id);
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "FAILED_PRECONDITION");
  EXPECT_NE(run.error.find("budget per_run of 5 reached (spent 6)"), std::string::npos) << run.error;
  EXPECT_EQ(looping.call_count(), 3);
  const store::Spend spent = *store_->GetSpend("run:" + id);
  EXPECT_EQ(spent.calls, 3);
  EXPECT_DOUBLE_EQ(spent.cost, 6);
}

TEST_F(AgentTest, ToolsOutsideTheAllowListAreRefusedToTheModel) {
  FakeProvider model([](const ProviderCall& call) {
    if (call.index == 0) {
      ProviderReply r;
      r.tool_calls.push_back({"delete_everything", "{}"});
      return r;
    }
    return ProviderReply::Text(R"({"ticket":"none"})");
  });
  Boot(model);
  auto run = *engine_->Wait(Start(Yaml()));
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  const std::string seen = ToJson(model.calls()[1].body.get("messages"));
  EXPECT_NE(seen.find("is not one of the functions you may call"), std::string::npos) << seen;
  EXPECT_EQ(crm_.requests().size(), 0u);
}

TEST_F(AgentTest, LoaderChecksTheTools) {
  FakeProvider model(Script);
  Boot(model);
  std::string yaml = Yaml();
  const std::string tools = "tools: [check_account, create_ticket]";
  yaml.replace(yaml.find(tools), tools.size(), "tools: [check_account, refund]");
  auto wf = dsl::LoadWorkflow(yaml, "helper.yaml", *registry_);
  ASSERT_FALSE(wf.ok());
  EXPECT_NE(wf.status().message().find("'refund' is not an action the workflow declares"), std::string::npos)
      << wf.status();
}

}  // namespace
}  // namespace weft::actions
