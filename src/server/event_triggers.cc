#include "event_triggers.h"

#include "weft/core/log.h"

#include <cstdio>

namespace weft::server {
namespace {

constexpr const char* kCursor = "events:dispatched_seq";

}  // namespace

EventDispatcher::EventDispatcher(engine::Engine& engine, store::Store& store, std::shared_ptr<Metrics> metrics,
                                 std::shared_ptr<const TriggerSwitches> switches)
    : engine_(engine), store_(store), metrics_(std::move(metrics)), switches_(std::move(switches)) {}

EventDispatcher::~EventDispatcher() { Stop(); }

void EventDispatcher::Set(const std::shared_ptr<const dsl::Workflow>& wf) {
  MutexLock lock(mu_);
  for (auto& [event, workflows] : subscribers_) {
    std::erase_if(workflows, [&wf](const auto& w) { return w.first == wf->name; });
  }
  for (size_t i = 0; i < wf->triggers.size(); ++i) {
    const dsl::Trigger& t = wf->triggers[i];
    if (t.kind == dsl::Trigger::Kind::kEvent) subscribers_[t.event.name].insert({wf->name, i});
  }
}

int EventDispatcher::DispatchPending() {
  MutexLock dispatching(dispatch_mu_);
  Result<std::optional<std::string>> cursor = store_.GetState(kCursor);
  if (!cursor.ok()) return 0;
  int64_t after = cursor->has_value() ? std::atoll((*cursor)->c_str()) : 0;
  int started = 0;
  for (;;) {
    Result<std::vector<store::StepRecord>> steps = store_.ListCompletedSteps("emit", after, 200);
    if (!steps.ok() || steps->empty()) break;
    for (const store::StepRecord& step : *steps) {
      const Value name = step.output.get("event");
      const Value id = step.output.get("id");
      std::set<std::string> workflows;
      if (name.is_string()) {
        MutexLock lock(mu_);
        auto it = subscribers_.find(name.as_string());
        if (it != subscribers_.end()) {
          for (const auto& [wf, index] : it->second) {
            if (!switches_ || switches_->Enabled(wf, index)) workflows.insert(wf);
          }
        }
      }
      for (const std::string& wf : workflows) {
        engine::StartOptions start;
        start.trigger = "event";
        start.start_key = "event:" + (id.is_string() ? id.as_string() : step.run_id + "/" + step.path) + ":" + wf;
        Value info = Value::MakeObject();
        info.set("name", name);
        info.set("id", id);
        info.set("from_run", step.run_id);
        start.context = Value::MakeObject();
        start.context.set("event", info);
        const Value payload = step.output.get("payload");
        Result<std::string> run = engine_.Start(wf, 0, payload.is_object() ? payload : Value::MakeObject(), start);
        if (run.ok()) {
          ++started;
          metrics_->Add("weft_runs_started_total", {{"workflow", wf}, {"trigger", "event"}});
        } else if (run.status().code() != StatusCode::kAlreadyExists) {
          // A payload the subscriber's schema refuses starts nothing; the
          // event is not retried (it would be refused again).
          Log(LogLevel::kWarning, "event '" + (name.is_string() ? name.as_string() : "?") + "' (" +
                                      (id.is_string() ? id.as_string() : "?") + ") not delivered to '" + wf +
                                      "': " + run.status().message());
        }
      }
      after = step.seq;
    }
    // The cursor moves once the runs are stored: a crash before this starts
    // the same runs again, which their start keys refuse.
    (void)store_.PutState(kCursor, std::to_string(after));
  }
  return started;
}

void EventDispatcher::Notify() {
  {
    MutexLock lock(mu_);
    notified_ = true;
  }
  wake_.notify_all();
}

void EventDispatcher::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      (void)DispatchPending();
      MutexLock lock(mu_);
      lock.WaitFor(wake_, std::chrono::seconds(1), [&]() WEFT_REQUIRES(mu_) { return stopping_ || notified_; });
      notified_ = false;
      if (stopping_) return;
    }
  });
}

void EventDispatcher::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace weft::server
