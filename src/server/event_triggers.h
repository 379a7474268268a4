// Event triggers: an `emit` step publishes a named event; every workflow
// with `trigger: {event: name}` starts from it, exactly once per event and
// workflow. The events are the emit steps' committed records, read in
// commit order after a cursor the store keeps, so an event committed just
// before a crash is dispatched after the restart.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "metrics.h"
#include "trigger_switches.h"
#include "weft/core/mutex.h"
#include "weft/dsl/workflow.h"
#include "weft/engine/engine.h"

namespace weft::server {

class EventDispatcher {
 public:
  // `switches` (may be null): a switched-off trigger lets events pass.
  EventDispatcher(engine::Engine& engine, store::Store& store, std::shared_ptr<Metrics> metrics,
                  std::shared_ptr<const TriggerSwitches> switches = nullptr);
  ~EventDispatcher();  // Stop()s
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  // Replaces the event triggers of `wf`.
  void Set(const std::shared_ptr<const dsl::Workflow>& wf);
  // Starts the runs of every event committed after the cursor; returns how
  // many runs it started.
  int DispatchPending();
  // An emit step was committed: dispatch now rather than at the next tick.
  void Notify();
  // A thread dispatching on Notify and every second.
  void Start();
  void Stop();

 private:
  engine::Engine& engine_;
  store::Store& store_;
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<const TriggerSwitches> switches_;
  Mutex mu_;
  // event -> (workflow, trigger index)
  std::map<std::string, std::set<std::pair<std::string, size_t>>> subscribers_ WEFT_GUARDED_BY(mu_);
  bool stopping_ WEFT_GUARDED_BY(mu_) = false;
  bool notified_ WEFT_GUARDED_BY(mu_) = false;
  std::condition_variable_any wake_;
  Mutex dispatch_mu_;  // one dispatch at a time (the cursor)
  std::thread thread_;
};

}  // namespace weft::server
