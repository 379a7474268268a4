// Engine behaviour that the data-driven cases cannot express: several
// engines on one store, recovery after an abandoned process, cancelling a
// step in flight, retrying onto a fixed workflow version, live step events.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine_impl.h"
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

  std::unique_ptr<Engine> NewEngine(const std::string& owner, std::function<void(const StepEvent&)> on_step = {},
                                    EventLog* events = nullptr) {
    EngineOptions o;
    o.events = events;
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

// A run born and ended in one commit (a webhook's pure run) is one INSERT
// of the run as it ended: not an INSERT and an UPDATE of the same row,
// which would also write its entries in the indexes of runs in flight.
TEST(RunBirth, BornAndEndedInOneCommitIsOneInsertOfTheEnd) {
  asio::io_context io;
  RunState run(asio::make_strand(io));
  store::RunRecord born;
  born.id = "01R";
  born.status = store::RunStatus::kRunning;
  born.created_ms = 1000;
  born.trigger = "webhook";
  born.start_key = "webhook:k";
  born.lease_owner = "host/1";
  run.unborn = born;
  store::RunRecord ended = born;
  ended.status = store::RunStatus::kCompleted;
  ended.lease_owner.clear();
  ended.created_ms = 0;  // updates do not carry these
  ended.trigger.clear();
  ended.start_key.clear();
  store::StepRecord step;
  step.path = "0:a";
  store::Commit commit;
  commit.updates.push_back({store::RunUpdate::Kind::kUpdate, "01R", ended, {step}, store::RunStatus::kRunning});
  commit.updates.back().fence_owner = "host/1";
  ASSERT_TRUE(run.AddBirth(commit));
  ASSERT_EQ(commit.updates.size(), 1u);
  const store::RunUpdate& u = commit.updates[0];
  EXPECT_EQ(u.kind, store::RunUpdate::Kind::kCreate);
  EXPECT_EQ(u.run.status, store::RunStatus::kCompleted);
  EXPECT_EQ(u.run.lease_owner, "");
  EXPECT_EQ(u.run.created_ms, 1000);
  EXPECT_EQ(u.run.trigger, "webhook");
  EXPECT_EQ(u.run.start_key, "webhook:k");
  EXPECT_FALSE(u.expect_status.has_value());
  EXPECT_EQ(u.fence_owner, "");
  ASSERT_EQ(u.steps.size(), 1u);
  EXPECT_EQ(u.steps[0].path, "0:a");

  // Steps alone (the run goes on): the run as born goes first.
  store::Commit steps_only;
  steps_only.updates.push_back({store::RunUpdate::Kind::kStepsOnly, "01R", {}, {step}, std::nullopt});
  ASSERT_TRUE(run.AddBirth(steps_only));
  ASSERT_EQ(steps_only.updates.size(), 2u);
  EXPECT_EQ(steps_only.updates[0].kind, store::RunUpdate::Kind::kCreate);
  EXPECT_EQ(steps_only.updates[0].run.status, store::RunStatus::kRunning);
  EXPECT_EQ(steps_only.updates[1].kind, store::RunUpdate::Kind::kStepsOnly);
  run.unborn.reset();
  EXPECT_FALSE(run.AddBirth(steps_only));
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

// The live updates the server serves: every run status change, step and task
// waiting for a person, in order, with ids a client can resume from.
TEST_F(EngineApiTest, PublishesRunsStepsAndTasks) {
  EventLog events;
  auto e = NewEngine("host/1", {}, &events);
  auto v = e->Deploy(Load(R"(
workflow: { name: inbox }
defs:
  a: { kind: task, action: set, inputs: { x: 1 } }
  ask: { kind: task, action: approval, inputs: { title: "refund?" } }
flow: [{ do: a }, { do: ask }]
)"));
  std::string run_id = *e->Start("inbox", *v, Value::MakeObject());
  ASSERT_EQ(e->Wait(run_id)->status, store::RunStatus::kSuspended);
  auto describe = [](const std::vector<Event>& list) {
    std::vector<std::string> out;
    for (const Event& ev : list) {
      std::string d(EventKindName(ev.kind));
      if (ev.kind == Event::Kind::kRun) d += " " + ev.data.get("status").as_string();
      if (ev.kind == Event::Kind::kStep)
        d += " " + ev.data.get("path").as_string() + " " + ev.data.get("status").as_string();
      if (ev.kind == Event::Kind::kTask)
        d += " " + ev.data.get("kind").as_string() + " " + ev.data.get("path").as_string();
      out.push_back(d);
    }
    return out;
  };
  bool complete = false;
  std::vector<Event> all = events.Since(0, &complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(describe(all), (std::vector<std::string>{"run running", "step 0:a completed", "step 1:ask suspended",
                                                     "run suspended", "task approval 1:ask"}));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, i + 1);
    EXPECT_EQ(all[i].run_id, run_id);
    EXPECT_EQ(all[i].workflow, "inbox");
  }
  // A client that saw event 3 gets the rest; a listener sees what follows.
  EXPECT_EQ(describe(events.Since(3)), (std::vector<std::string>{"run suspended", "task approval 1:ask"}));
  auto heard = std::make_shared<std::vector<std::string>>();
  auto heard_mu = std::make_shared<std::mutex>();
  const uint64_t sub = events.Subscribe([heard, heard_mu, describe](const Event& ev) {
    std::lock_guard lock(*heard_mu);
    heard->push_back(describe({ev}).front());
  });
  Value yes = Value::MakeObject();
  yes.set("approved", true);
  ASSERT_TRUE(e->Resume(run_id, yes).ok());
  ASSERT_EQ(e->Wait(run_id)->status, store::RunStatus::kCompleted);
  events.Unsubscribe(sub);
  std::lock_guard lock(*heard_mu);
  EXPECT_EQ(*heard, (std::vector<std::string>{"step 1:ask completed", "run running", "run completed"}));
}

TEST(EventLog, KeepsTheNewestAndSaysWhenSomeWereDropped) {
  EventLog log(3);
  for (int i = 0; i < 5; ++i) log.Publish(Event{});
  bool complete = true;
  std::vector<Event> kept = log.Since(0, &complete);
  EXPECT_FALSE(complete);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept.front().id, 3u);
  EXPECT_EQ(log.Since(2, &complete).size(), 3u);
  EXPECT_TRUE(complete);
  EXPECT_TRUE(log.Since(5, &complete).empty());
  EXPECT_TRUE(complete);
  EXPECT_EQ(log.last_id(), 5u);
}

// A server keeps events only for listeners that may ask for what they
// missed (SSE streams reconnecting with Last-Event-ID): while one is
// subscribed and for a grace after the last left. Whoever comes back later
// learns that events were dropped.
TEST(EventLog, KeptOnlyForReplayingListenersAndAGraceAfter) {
  EventLog log(100);
  log.KeepOnlyForReplay(std::chrono::seconds(60));
  for (int i = 0; i < 3; ++i) log.Publish(Event{});  // 1-3: nobody to replay for
  bool complete = true;
  EXPECT_TRUE(log.Since(0, &complete).empty());
  EXPECT_FALSE(complete);
  int heard = 0;
  const uint64_t counter = log.Subscribe([&heard](const Event&) { ++heard; });
  log.Publish(Event{});  // 4: heard, not kept
  EXPECT_EQ(heard, 1);
  EXPECT_TRUE(log.Since(3, &complete).empty());
  EXPECT_FALSE(complete);
  const uint64_t stream = log.Subscribe([](const Event&) {}, true);
  log.Publish(Event{});  // 5, 6: kept
  log.Publish(Event{});
  std::vector<Event> kept = log.Since(4, &complete);
  EXPECT_TRUE(complete);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, 5u);
  EXPECT_EQ(kept[1].id, 6u);
  log.Unsubscribe(stream);
  log.Publish(Event{});  // 7: within the grace, kept for a reconnecting stream
  kept = log.Since(5, &complete);
  EXPECT_TRUE(complete);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].id, 7u);
  log.Unsubscribe(counter);
  EXPECT_EQ(heard, 4);

  EventLog no_grace(100);
  no_grace.KeepOnlyForReplay(std::chrono::milliseconds(0));
  const uint64_t s = no_grace.Subscribe([](const Event&) {}, true);
  no_grace.Publish(Event{});  // 1, 2: kept
  no_grace.Publish(Event{});
  no_grace.Unsubscribe(s);
  no_grace.Publish(Event{});  // 3: nobody left; 1 and 2 go too
  EXPECT_TRUE(no_grace.Since(2, &complete).empty());
  EXPECT_FALSE(complete);
  no_grace.Subscribe([](const Event&) {}, true);
  no_grace.Publish(Event{});  // 4: kept again, ids consecutive from here
  kept = no_grace.Since(3, &complete);
  EXPECT_TRUE(complete);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].id, 4u);
  EXPECT_EQ(no_grace.Since(0, &complete).size(), 1u);
  EXPECT_FALSE(complete);
}

// Large events are kept as their outline (listeners get them whole) and the
// log's memory is bounded: the oldest go once the kept ones pass the budget.
TEST(EventLog, KeepsLargeEventsAsOutlinesWithinAByteBudget) {
  EventLog log(10'000, 64 << 10, 4 << 10);
  Value heard;
  log.Subscribe([&heard](const Event& e) { heard = e.data; });
  Event big;
  big.kind = Event::Kind::kRun;
  big.run_id = "R1";
  big.data = Value::MakeObject();
  big.data.set("status", "completed");
  big.data.set("input", std::string(100'000, 'x'));
  log.Publish(big);
  EXPECT_EQ(heard.get("input").as_string().size(), 100'000u) << "listeners get the whole event";
  std::vector<Event> kept = log.Since(0);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].data.get("status").as_string(), "completed");
  EXPECT_TRUE(kept[0].data.get("truncated").as_bool());
  EXPECT_FALSE(kept[0].data.get("input").is_defined());
  // Small events of ~2 KiB each: 64 KiB keeps a few dozen, the newest.
  for (int i = 0; i < 200; ++i) {
    Event e;
    e.data = Value::MakeObject();
    e.data.set("text", std::string(2000, 'y'));
    log.Publish(e);
  }
  bool complete = true;
  kept = log.Since(0, &complete);
  EXPECT_FALSE(complete);
  EXPECT_LT(kept.size(), 40u);
  EXPECT_GT(kept.size(), 10u);
  EXPECT_EQ(kept.back().id, 201u);
}

// Waiting for a run from a coroutine holds no thread: the caller's own
// io_context (one thread) waits for a run executing on the engine's.
TEST_F(EngineApiTest, AsyncWaitCompletesOnTheCallersExecutor) {
  auto e = NewEngine("host/1");
  auto v = e->Deploy(Load(R"(
workflow: { name: naps }
inputs: { schema: { ms: { type: integer } } }
defs:
  nap: { kind: task, action: test_sleep, inputs: { ms: "=$input.ms" } }
flow: [{ do: nap }]
)"));
  Value short_nap = Value::MakeObject();
  short_nap.set("ms", 30);
  Value long_nap = Value::MakeObject();
  long_nap.set("ms", 60'000);
  std::string quick = *e->Start("naps", *v, short_nap);
  std::string slow = *e->Start("naps", *v, long_nap);
  boost::asio::io_context caller;
  using Outcome = std::optional<Result<store::RunRecord>>;  // co_spawn's futures need a default value
  auto wait = [&](std::string id, std::chrono::milliseconds timeout) -> boost::asio::awaitable<Outcome> {
    co_return co_await e->AsyncWait(std::move(id), timeout);
  };
  auto waited = boost::asio::co_spawn(caller, wait(quick, std::chrono::seconds(30)), boost::asio::use_future);
  auto timed_out = boost::asio::co_spawn(caller, wait(slow, std::chrono::milliseconds(50)), boost::asio::use_future);
  caller.run();
  Outcome done = waited.get();
  ASSERT_TRUE(done && done->ok()) << (done ? done->status().ToString() : "no result");
  EXPECT_EQ((*done)->status, store::RunStatus::kCompleted);
  EXPECT_EQ(timed_out.get()->status().code(), StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(e->Cancel(slow).ok());
  EXPECT_EQ(e->Wait(slow)->status, store::RunStatus::kCancelled);
}

// Two actions that meet: `gate_wait` makes a blocking call (through
// engine::Blocking, as the built-in actions make their store calls) that
// waits up to 5 s for `gate_open` to run.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
};

class GateAction final : public Action {
 public:
  GateAction(const char* name, Gate& gate, bool opens) : gate_(gate), opens_(opens) {
    spec_.name = name;
    spec_.immediate = true;
  }
  const dsl::ActionSpec& spec() const override { return spec_; }
  boost::asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    if (opens_) {
      {
        std::lock_guard lock(gate_.mu);
        gate_.open = true;
      }
      gate_.cv.notify_all();
      co_return ActionResult::Ok(Value::MakeObject());
    }
    auto wait = [this] {
      std::unique_lock lock(gate_.mu);
      return gate_.cv.wait_for(lock, std::chrono::seconds(5), [this] { return gate_.open; });
    };
    const bool opened = co_await Blocking(ctx, std::move(wait));
    if (!opened) co_return ActionResult::Error(DeadlineExceededError("the gate stayed shut"));
    co_return ActionResult::Ok(Value::MakeObject());
  }

 private:
  dsl::ActionSpec spec_;
  Gate& gate_;
  bool opens_;
};

// An action's blocking call holds none of the engine's threads: with one
// thread, a branch whose call waits for the other branch's step still lets
// that step run (made on the thread, it would wait out its 5 s and fail).
TEST_F(EngineApiTest, AnActionsBlockingCallLeavesTheEngineThreadFree) {
  Gate gate;
  ASSERT_TRUE(registry_.Register(std::make_unique<GateAction>("gate_wait", gate, false)).ok());
  ASSERT_TRUE(registry_.Register(std::make_unique<GateAction>("gate_open", gate, true)).ok());
  auto e = NewEngine("host/1");  // one thread
  auto v = e->Deploy(Load(R"(
workflow: { name: gates }
defs:
  wait: { kind: task, action: gate_wait }
  open: { kind: task, action: gate_open }
flow:
  - parallel:
      strategy: wait_all
      steps: [ { do: wait }, { do: open } ]
)"));
  ASSERT_TRUE(v.ok());
  const std::string id = *e->Start("gates", *v, Value::MakeObject());
  auto rec = e->Wait(id, std::chrono::seconds(30));
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->status, store::RunStatus::kCompleted) << rec->error;
}

}  // namespace
}  // namespace weft::engine
