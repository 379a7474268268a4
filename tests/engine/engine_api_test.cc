// Engine behaviour that the data-driven cases cannot express: several
// engines on one store, recovery after an abandoned process, cancelling a
// step in flight, retrying onto a fixed workflow version, live step events.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_actions.h"
#include "weft/actions/builtin.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::engine {
namespace {

class EngineApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(actions::RegisterBuiltinActions(registry_).ok());
    ASSERT_TRUE(testing::RegisterTestActions(registry_, ledger_).ok());
    store_ = store::NewMemoryStore();
  }

  std::unique_ptr<Engine> NewEngine(const std::string& owner, std::function<void(const StepEvent&)> on_step = {}) {
    EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    o.clock = &clock_;
    o.owner = owner;
    o.lease_ms = 10'000;
    o.on_step = std::move(on_step);
    return std::move(Engine::Create(std::move(o))).value();
  }

  std::shared_ptr<const dsl::Workflow> Load(const std::string& text) {
    auto wf = dsl::LoadWorkflow(text, "test.yaml", registry_);
    EXPECT_TRUE(wf.ok()) << wf.status();
    return *wf;
  }

  SimulatedClock clock_{1'700'000'000'000};
  ActionRegistry registry_;
  testing::Ledger ledger_;
  std::unique_ptr<store::Store> store_;
};

constexpr const char* kSlow = R"(
workflow: { name: slow }
defs:
  first: { kind: task, action: test_flaky, inputs: { fail_times: 0 } }
  nap: { kind: task, action: test_sleep, inputs: { ms: 60000 } }
  after: { kind: task, action: set, inputs: { done: true } }
flow:
  - do: first
  - do: nap
  - do: after
)";

// A stopped engine aborts the attempts under way and hands their runs over
// at once (a crashed one leaves them under its lease until it lapses: see
// crash_test).
TEST_F(EngineApiTest, AnotherEngineTakesOverAStoppedEnginesRuns) {
  std::string run_id;
  {
    auto a = NewEngine("host-a/1");
    auto v = a->Deploy(Load(kSlow));
    ASSERT_TRUE(v.ok());
    run_id = *a->Start("slow", *v, Value::MakeObject());
    // Wait until the run is inside its long step, then stop the engine: the
    // run stays "running", released for another worker.
    for (int i = 0; i < 2000 && ledger_.Calls(run_id, "1:nap") == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(ledger_.Calls(run_id, "1:nap"), 1);
  }
  EXPECT_EQ(store_->GetRun(run_id)->status, store::RunStatus::kRunning);
  auto b = NewEngine("host-b/2");
  // The step that was in flight runs again, as the same attempt.
  EXPECT_EQ(*b->Recover(), 1);
  for (int i = 0; i < 2000 && ledger_.Calls(run_id, "1:nap") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(b->Cancel(run_id).ok());  // the 60 s nap again: stop it
  auto rec = b->Wait(run_id, std::chrono::seconds(10));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, store::RunStatus::kCancelled);
  EXPECT_EQ(ledger_.Calls(run_id, "0:first"), 1) << "a completed step never runs again";
  EXPECT_EQ(ledger_.Calls(run_id, "1:nap"), 2) << "the step in flight ran again";
}

TEST_F(EngineApiTest, CancelStopsAStepInFlight) {
  auto e = NewEngine("host/1");
  auto v = e->Deploy(Load(kSlow));
  std::string run_id = *e->Start("slow", *v, Value::MakeObject());
  for (int i = 0; i < 2000 && ledger_.Calls(run_id, "1:nap") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(e->Cancel(run_id).ok());
  auto rec = e->Wait(run_id, std::chrono::seconds(10));
  ASSERT_TRUE(rec.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10)) << "did not wait for the 60 s step";
  EXPECT_EQ(rec->status, store::RunStatus::kCancelled);
  auto steps = *store_->GetSteps(run_id);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[1].status, store::StepStatus::kCancelled);
  EXPECT_EQ(e->Cancel(run_id).code(), StatusCode::kFailedPrecondition);
}

TEST_F(EngineApiTest, RetryOntoAFixedVersion) {
  auto e = NewEngine("host/1");
  const char* broken = R"(
workflow: { name: fixme }
defs:
  prepare: { kind: task, action: test_flaky, inputs: { fail_times: 0 } }
  compute: { kind: task, action: fail, inputs: { message: "bug in step 2" } }
flow:
  - do: prepare
  - do: compute
outputs: { answer: "=$output.compute.answer" }
)";
  const char* fixed = R"(
workflow: { name: fixme }
defs:
  prepare: { kind: task, action: test_flaky, inputs: { fail_times: 0 } }
  compute: { kind: task, action: set, inputs: { answer: 42 } }
flow:
  - do: prepare
  - do: compute
outputs: { answer: "=$output.compute.answer" }
)";
  auto v1 = e->Deploy(Load(broken));
  std::string run_id = *e->Start("fixme", *v1, Value::MakeObject());
  auto rec = e->Wait(run_id);
  ASSERT_EQ(rec->status, store::RunStatus::kFailed);
  EXPECT_NE(rec->error.find("bug in step 2"), std::string::npos);
  auto v2 = e->Deploy(Load(fixed));
  ASSERT_EQ(*v2, *v1 + 1);
  ASSERT_TRUE(e->Retry(run_id, *v2).ok());
  rec = e->Wait(run_id);
  EXPECT_EQ(rec->status, store::RunStatus::kCompleted) << rec->error;
  EXPECT_EQ(rec->version, *v2);
  EXPECT_EQ(rec->outputs.get("answer").as_number(), 42);
  EXPECT_EQ(ledger_.Calls(run_id, "0:prepare"), 1) << "the step that succeeded is reused";
  EXPECT_EQ(e->Retry(run_id).code(), StatusCode::kFailedPrecondition) << "only failed runs";
}

TEST_F(EngineApiTest, ReportsStepsAsTheyHappen) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto e = NewEngine("host/1", [&](const StepEvent& ev) {
    std::lock_guard lock(mu);
    seen.push_back(ev.step.path + " " + std::string(store::StepStatusName(ev.step.status)));
  });
  auto v = e->Deploy(Load(R"(
workflow: { name: events }
defs:
  a: { kind: task, action: set, inputs: { x: 1 } }
  b: { kind: task, action: approval, inputs: { title: "ok?" } }
flow: [{ do: a }, { do: b }]
)"));
  std::string run_id = *e->Start("events", *v, Value::MakeObject());
  ASSERT_EQ(e->Wait(run_id)->status, store::RunStatus::kSuspended);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"0:a completed", "1:b suspended"}));
}

TEST_F(EngineApiTest, StartRejectsUnknownWorkflowsAndBadInput) {
  auto e = NewEngine("host/1");
  EXPECT_EQ(e->Start("nope", 0, Value::MakeObject()).status().code(), StatusCode::kNotFound);
  auto v = e->Deploy(Load(R"(
workflow: { name: typed }
inputs: { schema: { n: { type: integer, required: true } } }
defs: { a: { kind: task, action: set } }
flow: [{ do: a }]
)"));
  Value bad = Value::MakeObject();
  bad.set("n", "seven");
  auto r = e->Start("typed", *v, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("field 'n'"), std::string::npos) << r.status();
  EXPECT_TRUE(store_->ListRuns({})->empty()) << "nothing is stored for a refused start";
}

}  // namespace
}  // namespace weft::engine
