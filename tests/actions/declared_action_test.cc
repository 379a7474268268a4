// Declared business actions implemented by each kind the docs name besides
// http (tested with the fake CRM): an SQL query, a script, another workflow.
// Tasks use them by name; the history records the declared name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "run_workflow.h"
#include "weft/actions/builtin.h"
#include "weft/actions/script.h"
#include "weft/actions/sql.h"
#include "weft/core/json.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::actions {
namespace {

constexpr const char* kSupport = R"yaml(
workflow: { name: support }
permissions:
  sql: { crm: read }
  scripts: true
actions:
  find_account:
    description: Finds the account of an email
    inputs: { email: { type: string, required: true } }
    output: { type: object, required: [rows] }
    implementation:
      action: sql
      inputs:
        connection: crm
        query: "SELECT plan, balance FROM accounts WHERE email = ?1"
        params: ["=$input.email"]
  score_risk:
    description: How risky a message is for this account
    inputs:
      balance: { type: number, required: true }
      text: { type: string, required: true }
    output: { type: object, required: [risk], properties: { risk: { enum: [low, high] } } }
    implementation:
      action: script
      inputs:
        input: "=$input"
        code: |
          local high = input.balance < 0 or string.find(input.text, 'charged twice', 1, true) ~= nil
          return { risk = high and 'high' or 'low' }
  escalate:
    description: Routes the case to a queue (another workflow decides which)
    inputs:
      email: { type: string, required: true }
      risk: { type: string, required: true }
    output: { type: object, required: [queue] }
    implementation:
      action: call_workflow
      inputs: { workflow: escalation, input: "=$input" }
defs:
  find: { kind: task, action: find_account, inputs: { email: "=$input.email" } }
  score:
    kind: task
    action: score_risk
    inputs: { balance: "=$output.find.rows[0].balance", text: "=$input.message" }
  route: { kind: task, action: escalate, inputs: { email: "=$input.email", risk: "=$output.score.risk" } }
flow:
  - do: find
  - do: score
  - do: route
outputs:
  plan: "=$output.find.rows[0].plan"
  risk: "=$output.score.risk"
  queue: "=$output.route.queue"
)yaml";

constexpr const char* kEscalation = R"yaml(
workflow: { name: escalation }
defs:
  pick: { kind: task, action: set, inputs: { queue: "=$input.risk = 'high' ? 'billing-urgent' : 'billing'" } }
flow:
  - do: pick
outputs: { queue: "=$output.pick.queue" }
)yaml";

class DeclaredActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::remove(path_);
    Value config = Value::MakeObject();
    config.set("driver", "sqlite");
    config.set("path", path_);
    auto conn = OpenSqlConnection("crm", config, 1);
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(RegisterBuiltinActions(registry_).ok());
    ASSERT_TRUE(RegisterSqlAction(registry_, {{"crm", *conn}}).ok());
    ASSERT_TRUE(RegisterScriptAction(registry_).ok());
    store_ = store::NewMemoryStore();
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
    const std::string seed = R"yaml(
workflow: { name: seed }
permissions: { sql: { crm: write } }
defs:
  create: { kind: task, action: sql, inputs: { connection: crm, query: "CREATE TABLE accounts (email TEXT, plan TEXT, balance REAL)" } }
  fill:
    kind: task
    action: sql
    inputs:
      connection: crm
      query: "INSERT INTO accounts VALUES ('ada@example.com', 'pro', 120), ('bob@example.com', 'free', -15)"
flow:
  - do: create
  - do: fill
)yaml";
    ASSERT_EQ(RunWorkflow(*engine_, registry_, seed).status, store::RunStatus::kCompleted);
    auto escalation = dsl::LoadWorkflow(kEscalation, "escalation.yaml", registry_);
    ASSERT_TRUE(escalation.ok()) << escalation.status();
    ASSERT_TRUE(engine_->Deploy(*escalation).ok());
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove(path_);
  }

  const std::string path_ =
      (std::filesystem::temp_directory_path() / ("weft_declared_" + std::to_string(::getpid()) + ".db")).string();
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(DeclaredActionTest, SqlScriptAndWorkflowImplementationsRunByName) {
  auto run = RunWorkflow(*engine_, registry_, kSupport,
                         *ParseJson(R"({"email":"ada@example.com","message":"I was charged twice"})"));
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs), R"({"plan":"pro","risk":"high","queue":"billing-urgent"})");
  std::vector<std::string> actions;
  const std::vector<store::StepRecord> steps = store_->GetSteps(run.id).value();
  for (const store::StepRecord& s : steps) actions.push_back(s.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"find_account", "score_risk", "escalate"}));

  run = RunWorkflow(*engine_, registry_, kSupport,
                    *ParseJson(R"({"email":"bob@example.com","message":"where is my invoice?"})"));
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs), R"({"plan":"free","risk":"high","queue":"billing-urgent"})");
}

TEST_F(DeclaredActionTest, DeclaredSchemasHoldAtRunTime) {
  // No such account: rows is empty, the script gets no balance, and the
  // declared input schema stops the call before the script runs.
  auto run =
      RunWorkflow(*engine_, registry_, kSupport, *ParseJson(R"({"email":"nobody@example.com","message":"hello"})"));
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("score"), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("balance"), std::string::npos) << run.error;
}

TEST_F(DeclaredActionTest, ImplementationsNeedTheirGrants) {
  std::string text = kSupport;
  text.replace(text.find("  scripts: true\n"), 16, "");
  auto wf = dsl::LoadWorkflow(text, "support.yaml", registry_);
  ASSERT_FALSE(wf.ok());
  EXPECT_NE(wf.status().message().find("scripts"), std::string::npos) << wf.status();
}

}  // namespace
}  // namespace weft::actions
