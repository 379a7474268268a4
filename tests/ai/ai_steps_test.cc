// AI steps inside real workflow runs: the engine, a memory store, the curl
// client and the fake provider on loopback.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "fake_provider.h"
#include "memory.h"
#include "weft/actions/builtin.h"
#include "weft/actions/retrieve.h"
#include "weft/ai/actions.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::ai {
namespace {

using testing::FakeProvider;
using testing::ProviderCall;
using testing::ProviderReply;

constexpr const char* kTriage = R"(
workflow: { name: triage }
inputs:
  schema:
    message: { type: string }
defs:
  classify_issue:
    kind: task
    action: classify
    inputs: { text: "=$input.message" }
    settings:
      model: fast
      temperature: 0
      context: { plan: "=$input.plan" }
      output_schema:
        type: object
        required: [issue_type, urgency]
        properties:
          issue_type: { enum: [billing, account_access, bug, other] }
          urgency: { enum: [low, medium, high] }
      on_error: { fallback: { issue_type: unknown, urgency: high, confidence: 0 } }
  route:
    kind: task
    action: set
    inputs: { issue_type: "=issue_type", urgency: "=urgency", confidence: "=confidence" }
flow:
  - do: classify_issue
  - do: route
outputs:
  issue_type: "=issue_type"
)";

class AiStepsTest : public ::testing::Test {
 protected:
  void Start(FakeProvider& fake, const std::string& models_yaml_json = "") {
    http_ = http::NewCurlClient();
    Value models = *ParseJson(models_yaml_json.empty() ? R"({"fast":{"provider":"openai","model":"small-1",
        "price":{"input_per_1k":0.5,"output_per_1k":1.5}}})"
                                                       : models_yaml_json);
    Env env = [&fake](std::string_view name) -> std::optional<std::string> {
      if (name == "OPENAI_BASE_URL") return fake.base_url();
      if (name == "OPENAI_API_KEY") return "sk-env";
      return std::nullopt;
    };
    auto m = Models::FromConfig(models, http_.get(), env);
    ASSERT_TRUE(m.ok()) << m.status();
    store_ = store::NewMemoryStore();
    ASSERT_TRUE(actions::RegisterBuiltinActions(registry_, store_.get()).ok());
    ASSERT_TRUE(RegisterAiActions(registry_, {.models = *m, .store = store_.get(), .clock = &clock_}).ok());
    // No knowledge base: the example's retrieve step falls back to no articles.
    ASSERT_TRUE(actions::RegisterRetrieveActions(registry_, nullptr).ok());
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    o.threads = 2;
    o.secrets = [](std::string_view name) -> std::optional<std::string> {
      if (name == "CRM_TOKEN") return "tok-4f9a2c71e";
      return std::nullopt;
    };
    o.on_stream = [this](std::string_view run, std::string_view path, std::string_view delta) {
      std::lock_guard lock(stream_mu_);
      streamed_.push_back(std::string(run) + " " + std::string(path) + " " + std::string(delta));
    };
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
  }
  int64_t Deploy(const std::string& yaml) {
    auto wf = dsl::LoadWorkflow(yaml, "triage.yaml", registry_);
    EXPECT_TRUE(wf.ok()) << wf.status();
    return *engine_->Deploy(*wf);
  }
  store::RunRecord RunOne(int64_t version, const std::string& message) {
    Value input = Value::MakeObject();
    input.set("message", message);
    input.set("plan", "pro");
    auto id = engine_->Start("triage", version, input);
    EXPECT_TRUE(id.ok()) << id.status();
    return *engine_->Wait(*id);
  }
  std::vector<store::StepRecord> Steps(const std::string& run) { return *store_->GetSteps(run); }

  SimulatedClock clock_{1'764'460'800'000};  // 2025-11-30T00:00:00Z
  std::mutex stream_mu_;
  std::vector<std::string> streamed_;
  std::unique_ptr<http::Client> http_;
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(AiStepsTest, ClassifyRecordsTheWholeExchange) {
  FakeProvider fake([](const ProviderCall&) {
    return ProviderReply::Text(R"({"issue_type":"billing","urgency":"high","confidence":0.92})");
  });
  Start(fake);
  auto run = RunOne(Deploy(kTriage), "I was charged twice and nobody answered");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("issue_type"), Value("billing"));
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 2u);
  const Value& d = steps[0].detail;
  EXPECT_EQ(d.get("provider"), Value("openai"));
  EXPECT_EQ(d.get("alias"), Value("fast"));
  EXPECT_EQ(d.get("model"), Value("small-1"));
  // The prompt holds the message and the declared context, nothing else.
  std::string user = d.get("prompt").as_array()[1].get("content").as_string();
  EXPECT_NE(user.find("I was charged twice"), std::string::npos) << user;
  EXPECT_NE(user.find("plan: pro"), std::string::npos) << user;
  EXPECT_EQ(d.get("tokens").get("input"), Value(12));
  EXPECT_EQ(d.get("tokens").get("output"), Value(7));
  EXPECT_DOUBLE_EQ(d.get("cost").as_number(), 12 / 1000.0 * 0.5 + 7 / 1000.0 * 1.5);
  EXPECT_EQ(d.get("repairs"), Value(0));
  EXPECT_EQ(d.get("attempts").as_array()[0].get("raw"),
            Value(R"({"issue_type":"billing","urgency":"high","confidence":0.92})"));
  // The request asked for the schema, with confidence added.
  ProviderCall call = fake.calls()[0];
  EXPECT_EQ(call.authorization, "Bearer sk-env");
  Value schema = call.body.get("response_format").get("json_schema").get("schema");
  EXPECT_TRUE(schema.get("properties").find("confidence"));
  EXPECT_EQ(call.body.get("temperature"), Value(0));
}

TEST_F(AiStepsTest, InvalidAnswersTakeTheFallbackNeverTheNextStep) {
  FakeProvider fake(
      [](const ProviderCall&) { return ProviderReply::Text(R"({"issue_type":"refund","urgency":"high"})"); });
  Start(fake);
  auto run = RunOne(Deploy(kTriage), "where is my money");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("issue_type"), Value("unknown"));
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].status, store::StepStatus::kFailed);
  EXPECT_EQ(steps[0].detail.get("repairs"), Value(1));
  EXPECT_EQ(steps[0].detail.get("attempts").size(), 2u);
  EXPECT_EQ(steps[1].input.get("issue_type"), Value("unknown"));
  EXPECT_EQ(fake.call_count(), 2) << "one call and one repair turn";
}

// Over 1,000 runs with 30% garbage answers (invalid JSON, values outside the
// enum, missing fields, confidence out of range), the step after classify
// only ever sees a value that matches the schema, or the fallback.
TEST_F(AiStepsTest, ThousandRunsWithThirtyPercentGarbage) {
  std::atomic<int> n{0};
  FakeProvider fake([&n](const ProviderCall&) {
    const int i = n++;
    switch ((i * 7919) % 10) {  // a fixed, well-mixed pattern: 3 in 10 are garbage
      case 0: return ProviderReply::Text("I think this is about billing.");
      case 1: return ProviderReply::Text(R"({"issue_type":"refunds","urgency":"high","confidence":0.9})");
      case 2: return ProviderReply::Text(R"({"issue_type":"bug","urgency":"high","confidence":7})");
      default: break;
    }
    const char* types[] = {"billing", "account_access", "bug", "other"};
    return ProviderReply::Text(std::string(R"({"issue_type":")") + types[i % 4] +
                               R"(","urgency":"low","confidence":0.8})");
  });
  Start(fake);
  const int64_t v = Deploy(kTriage);
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    Value input = Value::MakeObject();
    input.set("message", "message " + std::to_string(i));
    ids.push_back(*engine_->Start("triage", v, input));
  }
  engine_->Drain();
  const dsl::Schema valid =
      *dsl::Schema::Compile(*ParseJson(R"({"type":"object","required":["issue_type","urgency","confidence"],
      "properties":{"issue_type":{"enum":["billing","account_access","bug","other","unknown"]},
                    "urgency":{"enum":["low","medium","high"]},
                    "confidence":{"type":"number","minimum":0,"maximum":1}}})"));
  int fallbacks = 0;
  for (const std::string& id : ids) {
    auto run = store_->GetRun(id);
    ASSERT_EQ(run->status, store::RunStatus::kCompleted) << run->error;
    auto steps = Steps(id);
    ASSERT_EQ(steps.back().task, "route");
    const Value& seen = steps.back().input;
    ASSERT_TRUE(valid.Validate(seen).ok()) << ToJson(seen);
    if (seen.get("issue_type") == Value("unknown")) ++fallbacks;
  }
  // A garbage answer is repaired unless the repair turn is garbage too.
  EXPECT_GT(fallbacks, 0);
  EXPECT_LT(fallbacks, 300);
  EXPECT_GT(fake.call_count(), 1200);
}

TEST_F(AiStepsTest, RetryingAFailedRunCallsNoModelTwice) {
  constexpr const char* kTwoModels = R"(
workflow: { name: triage }
defs:
  classify_issue:
    kind: task
    action: classify
    inputs: { text: "=$input.message" }
    settings: { model: fast, labels: [billing, bug] }
  choose:
    kind: task
    action: decide
    inputs: { question: "Refund or escalate?", options: [refund, escalate], text: "=$input.message" }
    settings: { model: fast }
flow:
  - do: classify_issue
  - do: choose
)";
  std::atomic<bool> decide_fails{true};
  FakeProvider fake([&](const ProviderCall& c) {
    if (c.LastUser().find("Refund or escalate?") != std::string::npos) {
      if (decide_fails) return ProviderReply::Status(400);
      return ProviderReply::Text(R"({"choice":"refund","confidence":0.7,"reason":"duplicate charge"})");
    }
    return ProviderReply::Text(R"({"label":"billing","confidence":0.95})");
  });
  Start(fake);
  auto run = RunOne(Deploy(kTwoModels), "charged twice");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(fake.call_count(), 2);
  decide_fails = false;
  ASSERT_TRUE(engine_->Retry(run.id).ok());
  auto done = *engine_->Wait(run.id);
  ASSERT_EQ(done.status, store::RunStatus::kCompleted) << done.error;
  EXPECT_EQ(fake.call_count(), 3) << "the recorded classification was reused, only decide ran again";
}

TEST_F(AiStepsTest, UnknownModelAliasIsAClearError) {
  FakeProvider fake([](const ProviderCall&) { return ProviderReply::Text("{}"); });
  Start(fake);
  // A literal alias weft.yaml does not define: refused when the workflow is
  // loaded (it used to send every run to the step's fallback).
  std::string yaml = kTriage;
  yaml.replace(yaml.find("model: fast"), 11, "model: huge");
  auto refused = dsl::LoadWorkflow(yaml, "triage.yaml", registry_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("task 'classify_issue': model 'huge' is not configured (configured: fast"),
            std::string::npos)
      << refused.status();
  // One an expression makes: a clear error when it runs.
  yaml = kTriage;
  yaml.replace(yaml.find("model: fast"), 11, "model: \"='hu' & 'ge'\"");
  auto run = RunOne(Deploy(yaml), "hello");
  auto steps = Steps(run.id);
  EXPECT_EQ(steps[0].status, store::StepStatus::kFailed);
  EXPECT_NE(steps[0].error.find("model 'huge' is not configured"), std::string::npos) << steps[0].error;
  EXPECT_EQ(fake.call_count(), 0);
}

TEST_F(AiStepsTest, IdenticalRequestsAreAnsweredFromTheCache) {
  FakeProvider fake([](const ProviderCall&) {
    return ProviderReply::Text(R"({"issue_type":"bug","urgency":"low","confidence":0.8})");
  });
  Start(fake);
  const int64_t v = Deploy(kTriage);
  auto first = RunOne(v, "the export is broken");
  EXPECT_EQ(Steps(first.id)[0].detail.get("cache"), Value("miss"));
  EXPECT_EQ(fake.call_count(), 1);
  auto second = RunOne(v, "the export is broken");
  ASSERT_EQ(second.status, store::RunStatus::kCompleted) << second.error;
  const store::StepRecord hit = Steps(second.id)[0];
  EXPECT_EQ(hit.detail.get("cache"), Value("hit"));
  EXPECT_EQ(hit.detail.get("cost"), Value(0));
  EXPECT_EQ(hit.output, Steps(first.id)[0].output);
  EXPECT_EQ(fake.call_count(), 1) << "a cache hit makes no request";
  RunOne(v, "something else");
  EXPECT_EQ(fake.call_count(), 2) << "another prompt is another request";
  // Entries expire (default TTL one hour).
  clock_.AdvanceMillis(3'600'001);
  RunOne(v, "the export is broken");
  EXPECT_EQ(fake.call_count(), 3);
  // A step can opt out.
  std::string yaml = kTriage;
  yaml.replace(yaml.find("temperature: 0"), 14, "temperature: 0\n      cache: false");
  const int64_t v2 = Deploy(yaml);
  RunOne(v2, "the export is broken");
  auto off = RunOne(v2, "the export is broken");
  EXPECT_EQ(Steps(off.id)[0].detail.get("cache"), Value("off"));
  EXPECT_EQ(fake.call_count(), 5);
}

TEST_F(AiStepsTest, BudgetsStopModelCallsAndTakeTheFallback) {
  FakeProvider fake([](const ProviderCall&) {
    return ProviderReply::Text(R"({"issue_type":"bug","urgency":"low","confidence":0.8})");
  });
  Start(fake);
  // Each call costs 12/1000*0.5 + 7/1000*1.5 = 0.0165.
  std::string yaml = kTriage;
  yaml.replace(yaml.find("temperature: 0"), 14,
               "temperature: 0\n      cache: false\n      budget: { per_run: 0.01, per_workflow_day: 0.04 }");
  // Two classifications in one run: the second finds the run's budget spent.
  yaml.replace(yaml.find("  - do: route"), 13, "  - do: again\n  - do: route");
  yaml.replace(yaml.find("  route:"), 8, std::string(R"(  again:
    kind: task
    action: classify
    inputs: { text: "=$input.message" }
    settings:
      model: fast
      labels: [billing, bug]
      cache: false
      budget: { per_run: 0.01, per_workflow_day: 0.04 }
      on_error: { fallback: { label: unknown, confidence: 0 } }
  route:)"));
  const int64_t v = Deploy(yaml);
  auto run = RunOne(v, "the app crashes");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].status, store::StepStatus::kCompleted);
  EXPECT_EQ(steps[1].status, store::StepStatus::kFailed);
  EXPECT_NE(steps[1].error.find("budget per_run"), std::string::npos) << steps[1].error;
  EXPECT_TRUE(steps[1].detail.get("budget_reached").is_object());
  // Model calls as weft counted them (the fake server's count would also see
  // a request the HTTP client re-sent on a connection that died).
  auto calls = [&] { return store_->GetSpend("day:2025-11-30")->calls + store_->GetSpend("day:2025-12-01")->calls; };
  EXPECT_EQ(calls(), 1) << "the budget stopped the second call";
  EXPECT_NEAR(store_->GetSpend("run:" + run.id)->cost, 0.0165, 1e-9);
  // The workflow's daily budget (0.04) lets two more runs call, then stops.
  RunOne(v, "the app crashes");
  RunOne(v, "the app crashes");
  EXPECT_EQ(calls(), 3);
  const int requests = fake.call_count();
  auto over = RunOne(v, "the app crashes");
  EXPECT_EQ(fake.call_count(), requests) << "no request at all once the budget is reached";
  EXPECT_EQ(calls(), 3);
  EXPECT_NE(Steps(over.id)[0].error.find("budget per_workflow_day"), std::string::npos);
  EXPECT_EQ(over.outputs.get("issue_type"), Value("unknown"));
  // A new day, a new daily budget.
  clock_.AdvanceMillis(24 * 3'600'000);
  RunOne(v, "the app crashes");
  EXPECT_EQ(calls(), 4);
}

TEST_F(AiStepsTest, ConversationMemoryFeedsTheNextRun) {
  FakeProvider fake([](const ProviderCall& c) {
    if (c.LastUser().find("Summarize") != std::string::npos) {
      return ProviderReply::Text("Customer on the pro plan reports a double charge.");
    }
    return ProviderReply::Text(R"({"issue_type":"billing","urgency":"high","confidence":0.9})");
  });
  Start(fake);
  constexpr const char* kChat = R"yaml(
workflow: { name: chat }
defs:
  note_message:
    kind: task
    action: remember
    inputs:
      conversation: "=$input.conversation"
      message: "=$input.message"
      facts: { plan: "=$input.plan" }
  memory: { kind: task, action: recall, inputs: { conversation: "=$input.conversation" } }
  classify_issue:
    kind: task
    action: classify
    inputs: { text: "=$input.message" }
    settings:
      model: fast
      cache: false
      context: { summary: "=$output.memory.summary", plan: "=$output.memory.facts.plan" }
      output_schema:
        type: object
        properties: { issue_type: { enum: [billing, bug] }, urgency: { enum: [low, high] } }
  keep_summary:
    kind: task
    action: summarize
    inputs: { text: "=$join($output.memory.messages.text, ' / ')" }
    settings: { model: fast, memory: "=$input.conversation" }
flow:
  - do: note_message
  - do: memory
  - do: classify_issue
  - do: keep_summary
)yaml";
  auto wf = dsl::LoadWorkflow(kChat, "chat.yaml", registry_);
  ASSERT_TRUE(wf.ok()) << wf.status();
  const int64_t v = *engine_->Deploy(*wf);
  auto start = [&](const std::string& message) {
    Value input = Value::MakeObject();
    input.set("conversation", "conv-7");
    input.set("message", message);
    input.set("plan", "pro");
    return *engine_->Wait(*engine_->Start("chat", v, input));
  };
  auto first = start("I was charged twice");
  ASSERT_EQ(first.status, store::RunStatus::kCompleted) << first.error;
  auto second = start("and still no refund");
  ASSERT_EQ(second.status, store::RunStatus::kCompleted) << second.error;
  // The second run recalled both messages, the plan and the first summary...
  const Value recalled = Steps(second.id)[1].output;
  EXPECT_EQ(recalled.get("messages").size(), 2u);
  EXPECT_EQ(recalled.get("facts").get("plan"), Value("pro"));
  EXPECT_EQ(recalled.get("summary"), Value("Customer on the pro plan reports a double charge."));
  // ...and its classifier saw them, because its context named them.
  std::string user = Steps(second.id)[2].detail.get("prompt").as_array()[1].get("content").as_string();
  EXPECT_NE(user.find("summary: Customer on the pro plan"), std::string::npos) << user;
  EXPECT_NE(user.find("plan: pro"), std::string::npos) << user;
  // It is durable state in the store, not in the run.
  EXPECT_EQ(store_->GetMemory("conv-7")->get("messages").size(), 2u);
}

TEST_F(AiStepsTest, MemoryWritesAreIdempotentPerAttempt) {
  FakeProvider fake([](const ProviderCall&) { return ProviderReply::Text("{}"); });
  Start(fake);
  auto add = [&](const std::string& key) {
    return ai::internal::UpdateMemory(*store_, "conv-1", key, [](Value& m) {
      Value list = Value::MakeArray(m.get("messages").as_array());
      list.push_back(Value("hello"));
      m.set("messages", list);
    });
  };
  ASSERT_TRUE(add("run/0:note/1").ok());
  ASSERT_TRUE(add("run/0:note/1").ok()) << "the same attempt seen again after a crash";
  EXPECT_EQ(store_->GetMemory("conv-1")->get("messages").size(), 1u);
  ASSERT_TRUE(add("run/0:note/2").ok());
  EXPECT_EQ(store_->GetMemory("conv-1")->get("messages").size(), 2u);
}

// The support-triage example runs on the local model; one line of
// configuration (`models: {default: ...}`) moves it to an OpenAI-compatible
// endpoint, with the local classifier as the first stage of its cascade.
TEST_F(AiStepsTest, SupportTriageSwitchesToAModelWithOneLineOfConfiguration) {
  FakeProvider fake([](const ProviderCall& c) {
    if (c.body.get("response_format").is_defined()) {
      return ProviderReply::Text(R"({"issue_type":"other","urgency":"low","confidence":0.6})");
    }
    return ProviderReply::Text("Thanks for writing! Here is what we can do.");
  });
  Start(fake, R"({"default":{"provider":"openai","model":"small-1"}})");
  auto wf = dsl::LoadWorkflowFile(std::string(WEFT_SOURCE_DIR) + "/examples/support-triage.yaml", registry_);
  ASSERT_TRUE(wf.ok()) << wf.status();
  const int64_t v = *engine_->Deploy(*wf);
  auto run = [&](const std::string& message) {
    Value input = Value::MakeObject();
    input.set("message", message);
    return *engine_->Wait(*engine_->Start("support-triage", v, input));
  };
  // Clear enough for the local model: no model call for the classification.
  auto sure = run("I was charged twice and nobody answered");
  EXPECT_EQ(Steps(sure.id)[0].detail.get("cascade").get("decision"), Value("local"));
  EXPECT_EQ(sure.status, store::RunStatus::kSuspended) << "urgent billing goes to a human";
  EXPECT_EQ(fake.call_count(), 0);
  // Not clear: the model classifies, then writes the reply.
  auto unsure = run("zebra quantum marmalade");
  ASSERT_EQ(unsure.status, store::RunStatus::kCompleted) << unsure.error;
  auto steps = Steps(unsure.id);
  EXPECT_EQ(steps[0].detail.get("cascade").get("decision"), Value("model"));
  EXPECT_EQ(unsure.outputs.get("reply"), Value("Thanks for writing! Here is what we can do."));
  EXPECT_EQ(fake.call_count(), 2);
}

TEST_F(AiStepsTest, GenerateTextStreamsToWhoeverFollowsTheRun) {
  const std::string reply = "We refunded the second charge; it shows in 3 to 5 days.";
  FakeProvider fake([&](const ProviderCall&) { return ProviderReply::Text(reply); });
  Start(fake);
  auto wf = dsl::LoadWorkflow(R"(
workflow: { name: answer }
defs:
  reply:
    kind: task
    action: generate_text
    inputs: { prompt: "Answer the customer.", text: "=$input.message" }
    settings: { model: fast, stream: true, cache: false }
flow: [{ do: reply }]
)",
                              "answer.yaml", registry_);
  ASSERT_TRUE(wf.ok()) << wf.status();
  Value input = Value::MakeObject();
  input.set("message", "charged twice");
  auto run = *engine_->Wait(*engine_->Start("answer", *engine_->Deploy(*wf), input));
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(Steps(run.id)[0].output.get("text"), Value(reply));
  EXPECT_EQ(Steps(run.id)[0].detail.get("streamed"), Value(true));
  std::lock_guard lock(stream_mu_);
  ASSERT_GT(streamed_.size(), 2u) << "the reply arrives in pieces";
  std::string joined;
  const std::string prefix = run.id + " 0:reply ";
  for (const std::string& piece : streamed_) {
    ASSERT_EQ(piece.rfind(prefix, 0), 0u) << piece;
    joined += piece.substr(prefix.size());
  }
  EXPECT_EQ(joined, reply);
  EXPECT_EQ(fake.calls()[0].body.get("stream"), Value(true));
}

// $secret() values reach the model (the action gets them) but never the
// run history: step input, the recorded prompt and errors say [secret].
TEST_F(AiStepsTest, SecretsReachTheActionButNotTheHistory) {
  FakeProvider fake([](const ProviderCall&) { return ProviderReply::Text(R"({"label":"billing","confidence":0.9})"); });
  Start(fake);
  auto wf = dsl::LoadWorkflow(R"yaml(
workflow: { name: secretive }
defs:
  c:
    kind: task
    action: classify
    inputs: { text: "=$input.message & ' (account token ' & $secret('CRM_TOKEN') & ')'" }
    settings:
      model: fast
      cache: false
      labels: [billing, bug]
      context: { crm: "=$secret('CRM_TOKEN')" }
  missing:
    kind: task
    action: classify
    inputs: { text: "=$secret('NOPE')" }
    settings: { model: fast, labels: [billing, bug] }
flow: [{ do: c }, { do: missing }]
)yaml",
                              "secretive.yaml", registry_);
  ASSERT_TRUE(wf.ok()) << wf.status();
  Value input = Value::MakeObject();
  input.set("message", "charged twice");
  auto run = *engine_->Wait(*engine_->Start("secretive", *engine_->Deploy(*wf), input));
  // The model got the value...
  EXPECT_NE(ToJson(fake.calls()[0].body).find("tok-4f9a2c71e"), std::string::npos);
  // ...the history did not.
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 2u);
  for (const auto& step : steps) {
    const std::string recorded = ToJson(step.input) + ToJson(step.detail) + step.error;
    EXPECT_EQ(recorded.find("tok-4f9a2c71e"), std::string::npos) << recorded;
  }
  EXPECT_EQ(steps[0].input.get("text"), Value("charged twice (account token [secret])"));
  EXPECT_NE(ToJson(steps[0].detail.get("prompt")).find("crm: [secret]"), std::string::npos);
  // $secret itself cannot be handed on, to be called where nothing is redacted.
  auto leaky = dsl::LoadWorkflow(R"yaml(
workflow: { name: leaky }
defs:
  keep: { kind: task, action: set, inputs: { f: "=$secret" } }
flow: [{ do: keep }]
)yaml",
                                 "leaky.yaml", registry_);
  ASSERT_TRUE(leaky.ok()) << leaky.status();
  auto handed = *engine_->Wait(*engine_->Start("leaky", *engine_->Deploy(*leaky), Value::MakeObject()));
  EXPECT_EQ(handed.status, store::RunStatus::kFailed);
  EXPECT_NE(handed.error.find("cannot pass functions"), std::string::npos) << handed.error;
  // An unknown secret fails the step, saying which.
  EXPECT_EQ(steps[1].status, store::StepStatus::kFailed);
  EXPECT_NE(steps[1].error.find("secret 'NOPE' is not set"), std::string::npos) << steps[1].error;
  EXPECT_EQ(run.status, store::RunStatus::kFailed);
}

TEST(Models, ConfigErrorsNameTheAliasAndKey) {
  auto http = http::NewCurlClient();
  Env none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto bad = [&](const char* json) { return Models::FromConfig(*ParseJson(json), http.get(), none).status(); };
  EXPECT_NE(bad(R"({"fast":{"provider":"openai"}})").message().find("models.fast: 'model'"), std::string::npos);
  EXPECT_NE(bad(R"({"fast":{"provider":"acme","model":"x"}})").message().find("unknown provider 'acme'"),
            std::string::npos);
  EXPECT_NE(bad(R"({"fast":{"provider":"openai","model":"x","temprature":1}})").message().find("unknown key"),
            std::string::npos);
  EXPECT_NE(bad(R"({"fast":{"provider":"openai","model":"x","json_mode":"xml"}})").message().find("json_mode"),
            std::string::npos);
  Env vault = [](std::string_view name) -> std::optional<std::string> {
    if (name == "OPENAI_PROD") return "sk-from-secret";
    return std::nullopt;
  };
  auto keyed =
      Models::FromConfig(*ParseJson(R"({"fast":{"provider":"openai","model":"x","api_key_secret":"OPENAI_PROD"}})"),
                         http.get(), none, nullptr, vault);
  ASSERT_TRUE(keyed.ok()) << keyed.status();
  EXPECT_EQ((*keyed)->Resolve("fast")->config->api_key, "sk-from-secret");
  auto unset = Models::FromConfig(*ParseJson(R"({"fast":{"provider":"openai","model":"x","api_key_secret":"NOPE"}})"),
                                  http.get(), none, nullptr, vault);
  EXPECT_NE(unset.status().message().find("models.fast: secret 'NOPE' (api_key_secret) is not set"), std::string::npos)
      << unset.status();
  auto ok = Models::FromConfig(*ParseJson(R"({"fast":{"provider":"openai","model":"x"}})"), http.get(), none);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->Resolve("fast")->config->base_url, "https://api.openai.com/v1");
  EXPECT_EQ((*ok)->Resolve("local")->provider, nullptr);
  EXPECT_EQ((*ok)->Resolve("other").status().code(), StatusCode::kNotFound);
}

TEST(Models, AnUnsetApiKeyEnvIsRefusedByName) {
  auto http = http::NewCurlClient();
  Env none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto r = Models::FromConfig(*ParseJson(R"({"fast":{"provider":"openai","model":"x","api_key_env":"CRM_AI_KEY"}})"),
                              http.get(), none);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("models.fast: api_key_env names CRM_AI_KEY, which is not set"), std::string::npos)
      << r.status();
  Env set = [](std::string_view name) -> std::optional<std::string> {
    if (name == "CRM_AI_KEY") return "sk-crm";
    return std::nullopt;
  };
  r = Models::FromConfig(*ParseJson(R"({"fast":{"provider":"openai","model":"x","api_key_env":"CRM_AI_KEY"}})"),
                         http.get(), set);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Resolve("fast")->config->api_key, "sk-crm");
}

// Anthropic's SDKs take ANTHROPIC_BASE_URL without /v1, OpenAI's with it:
// both forms reach the same endpoint.
TEST(Models, BaseUrlsWithOrWithoutTheVersion) {
  auto http = http::NewCurlClient();
  struct Case {
    const char* provider;
    const char* env_url;
    const char* base_url;
  };
  const Case cases[] = {
      {"anthropic", "https://api.anthropic.com", "https://api.anthropic.com/v1"},
      {"anthropic", "https://api.anthropic.com/", "https://api.anthropic.com/v1"},
      {"anthropic", "https://api.anthropic.com/v1", "https://api.anthropic.com/v1"},
      {"openai", "http://127.0.0.1:11434", "http://127.0.0.1:11434/v1"},
      {"openai", "http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1"},
      {"openai", "https://proxy.example/openai/deployments/x", "https://proxy.example/openai/deployments/x"},
  };
  for (const Case& c : cases) {
    const std::string var = std::string(c.provider) == "anthropic" ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL";
    Env env = [&](std::string_view name) -> std::optional<std::string> {
      if (name == var) return std::string(c.env_url);
      return std::nullopt;
    };
    auto r = Models::FromConfig(*ParseJson(std::string(R"({"m":{"provider":")") + c.provider + R"(","model":"x"}})"),
                                http.get(), env);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->Resolve("m")->config->base_url, c.base_url) << c.env_url;
  }
}

}  // namespace
}  // namespace weft::ai

namespace weft::ai {
namespace {

// Every documented form of a few-shot example reaches the model with its
// answer (the {text, <field>: <value>} form used to render "Answer: " and
// nothing after it).
TEST_F(AiStepsTest, FewShotExamplesOfEveryFormReachThePrompt) {
  FakeProvider fake([](const ProviderCall&) {
    return ProviderReply::Text(R"({"issue_type":"billing","urgency":"high","confidence":0.9})");
  });
  Start(fake);
  std::string yaml = kTriage;
  yaml.replace(yaml.find("      temperature: 0"), 20, R"(      temperature: 0
      examples:
        - { text: "I was charged twice", issue_type: billing, urgency: high }
        - { input: "cannot log in", output: { issue_type: account_access, urgency: medium } }
        - { text: "the app crashes", label: bug }
        - { text: "hello", output: "other" })");
  auto run = RunOne(Deploy(yaml), "refund please");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  ASSERT_EQ(fake.call_count(), 1);
  const std::string prompt = fake.calls()[0].LastUser();
  for (const char* expected : {
           "Text: I was charged twice\nAnswer: {\"issue_type\":\"billing\",\"urgency\":\"high\"}",
           "Text: cannot log in\nAnswer: {\"issue_type\":\"account_access\",\"urgency\":\"medium\"}",
           "Text: the app crashes\nAnswer: bug",
           "Text: hello\nAnswer: other",
       }) {
    EXPECT_NE(prompt.find(expected), std::string::npos) << expected << "\n--- prompt:\n" << prompt;
  }
  EXPECT_EQ(prompt.find("Answer: \n"), std::string::npos) << prompt;
}

}  // namespace
}  // namespace weft::ai
