// examples/triage-with-crm.yaml, end to end: the real file and its imported
// catalog, SQLite, the local classifier (or a failing model), the fake CRM
// and webhook sink on loopback, suspensions resumed as a channel would.
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
using testing::FakeResponse;
using testing::ProviderCall;
using testing::ProviderReply;

class TriageFlowTest : public ::testing::Test {
 protected:
  void SetUp() override { crm_.AddAccount("ada@example.com", "Ada", "pro"); }
  // `model`: the classifier's model server; none = the local model.
  void Start(FakeProvider* model = nullptr) {
    client_ = http::NewCurlClient();
    store_ = std::move(store::OpenSqliteStore({.path = db_.path()})).value();
    ASSERT_TRUE(RegisterBuiltinActions(registry_, store_.get()).ok());
    ASSERT_TRUE(RegisterHttpActions(registry_, {.client = client_.get()}).ok());
    Value models = model == nullptr ? Value() : *ParseJson(R"({"default":{"provider":"openai","model":"m"}})");
    ai::Env env = [model](std::string_view name) -> std::optional<std::string> {
      if (name == "OPENAI_BASE_URL" && model != nullptr) return model->base_url();
      return std::nullopt;
    };
    auto m = ai::Models::FromConfig(models, client_.get(), env);
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(ai::RegisterAiActions(registry_, {.models = *m, .store = store_.get()}).ok());
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    o.threads = 2;
    o.secrets = [this](std::string_view name) -> std::optional<std::string> {
      if (name == "CRM_URL") return crm_.url();
      if (name == "CRM_TOKEN") return "crm-token-1";
      if (name == "TEAM_WEBHOOK") return crm_.url() + "/hooks/team";
      if (name == "OPS_WEBHOOK") return crm_.url() + "/hooks/ops";
      return std::nullopt;
    };
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
    auto wf = dsl::LoadWorkflowFile(std::string(WEFT_SOURCE_DIR) + "/examples/triage-with-crm.yaml", registry_);
    ASSERT_TRUE(wf.ok()) << wf.status();
    version_ = *engine_->Deploy(*wf);
  }
  store::RunRecord Begin(const std::string& message) {
    Value input = Value::MakeObject();
    input.set("message", message);
    return *engine_->Wait(*engine_->Start("triage-with-crm", version_, input));
  }
  store::RunRecord Resume(const std::string& id, const char* payload) {
    EXPECT_TRUE(engine_->Resume(id, *ParseJson(payload)).ok());
    return *engine_->Wait(id);
  }
  std::vector<store::MessageRecord> Said(const std::string& run) { return *store_->ListMessages({.run_id = run}); }
  std::vector<std::string> Hooks(const std::string& path) {
    std::vector<std::string> out;
    for (const auto& h : crm_.hooks()) {
      if (h.target == path) out.push_back(h.body);
    }
    return out;
  }

  FakeCrm crm_;
  testing::TempDb db_{"weft_triage"};  // before the store: outlives it
  std::unique_ptr<http::Client> client_;
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
  int64_t version_ = 0;
};

TEST_F(TriageFlowTest, ChargedTwiceGoesFromClassificationToAPerson) {
  Start();
  auto run = Begin("I was charged twice and nobody answered");
  // Classified, then asks who the customer is.
  ASSERT_EQ(run.status, store::RunStatus::kSuspended) << run.error;
  EXPECT_EQ(run.wait.get("kind"), Value("user_input"));
  EXPECT_EQ(run.wait.get("task"), Value("ask_email"));

  run = Resume(run.id, R"({"text":"sure, it's ada@example.com"})");
  ASSERT_EQ(run.status, store::RunStatus::kSuspended) << run.error;
  EXPECT_EQ(run.wait.get("kind"), Value("handover"));
  EXPECT_EQ(run.wait.get("data").get("queue"), Value("billing"));
  EXPECT_EQ(run.wait.get("data").get("reason"), Value("ticket T-1000"));

  // The CRM was asked once for the account, and has one high-priority ticket.
  EXPECT_EQ(crm_.requests_to("/accounts"), 1);
  ASSERT_EQ(crm_.tickets().size(), 1u);
  const Value ticket = crm_.tickets()[0];
  EXPECT_EQ(ticket.get("priority"), Value("high"));
  EXPECT_EQ(ticket.get("category"), Value("billing"));
  EXPECT_EQ(ticket.get("account_id"), Value("acc_1"));
  EXPECT_EQ(crm_.requests()[0].header("Authorization"), "Bearer crm-token-1");
  // The team was told, with the ticket and the customer.
  auto team = Hooks("/hooks/team");
  ASSERT_EQ(team.size(), 1u);
  EXPECT_NE(team[0].find("T-1000"), std::string::npos) << team[0];
  EXPECT_NE(team[0].find("*customer*\\nAda"), std::string::npos) << team[0];
  EXPECT_TRUE(Hooks("/hooks/ops").empty());
  // The customer was told, then the conversation went to the billing queue.
  auto said = Said(run.id);
  ASSERT_EQ(said.size(), 2u);
  EXPECT_EQ(said[0].content.get("text"),
            Value("Thanks Ada, we opened ticket T-1000 and a person from our team is taking over."));
  EXPECT_EQ(said[1].kind, "handover");
  EXPECT_EQ(said[1].content.get("queue"), Value("billing"));

  run = Resume(run.id, R"({"by":"lea","note":"refunded"})");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs), R"({"issue_type":"billing","urgency":"high","account":"acc_1","ticket":"T-1000"})");
  EXPECT_EQ(crm_.tickets().size(), 1u);
}

TEST_F(TriageFlowTest, CrmOutageIsRetriedLoggedAndReportedAndAPersonStillTakesOver) {
  Start();
  for (int i = 0; i < 30; ++i) crm_.Inject({"/accounts", FakeResponse::Json(R"({"error":"down"})", 503), false});
  auto run = Begin("I was charged twice and nobody answered");
  run = Resume(run.id, R"({"text":"ada@example.com"})");
  ASSERT_EQ(run.status, store::RunStatus::kSuspended) << run.error;
  EXPECT_EQ(run.wait.get("data").get("reason"), Value("CRM unavailable"));
  // Three attempts of the step, each sending up to three times.
  EXPECT_EQ(crm_.requests_to("/accounts"), 9);
  EXPECT_TRUE(crm_.tickets().empty());
  auto ops = Hooks("/hooks/ops");
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_NE(ops[0].find("CRM unavailable"), std::string::npos) << ops[0];
  EXPECT_NE(ops[0].find("HTTP 503"), std::string::npos) << ops[0];
  EXPECT_TRUE(Hooks("/hooks/team").empty());
  bool logged = false;
  const std::vector<store::StepRecord> steps = store_->GetSteps(run.id).value();
  for (const auto& s : steps) {
    logged = logged || (s.task == "log_crm_failure" && s.status == store::StepStatus::kCompleted);
  }
  EXPECT_TRUE(logged);
  auto said = Said(run.id);
  ASSERT_EQ(said.size(), 2u);
  EXPECT_EQ(said[0].content.get("text"), Value("Thanks, a person from our team is taking over."));
}

TEST_F(TriageFlowTest, FailedClassificationGoesToHumanReview) {
  // The configured model answers nothing usable, twice (the repair turn too).
  FakeProvider model([](const ProviderCall&) { return ProviderReply::Text("I think it is about money?"); });
  Start(&model);
  auto run = Begin("I was charged twice and nobody answered");
  ASSERT_EQ(run.status, store::RunStatus::kSuspended) << run.error;
  EXPECT_EQ(run.wait.get("task"), Value("review_by_human"));
  EXPECT_EQ(run.wait.get("data").get("queue"), Value("triage-review"));
  EXPECT_EQ(model.call_count(), 2);
  EXPECT_TRUE(crm_.requests().empty());
  run = Resume(run.id, "{}");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("issue_type"), Value("unknown"));
}

}  // namespace
}  // namespace weft::actions
