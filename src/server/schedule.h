// Schedule triggers: cron slots in an IANA time zone start runs. Each slot
// starts at most one run, across restarts and processes (the slot is the
// run's start key); slots missed while no server ran follow the trigger's
// `missed` policy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metrics.h"
#include "trigger_switches.h"
#include "weft/core/clock.h"
#include "weft/core/cron.h"
#include "weft/core/mutex.h"
#include "weft/dsl/workflow.h"
#include "weft/engine/engine.h"

namespace date {
class time_zone;
}

namespace weft::server {

// The first slot of `spec` after `after_ms` (Unix milliseconds) in `zone`
// (nullptr = UTC); -1 when none comes within eight years. A wall-clock time
// skipped by a daylight-saving change fires at the change.
int64_t NextSlot(const CronSpec& spec, const date::time_zone* zone, int64_t after_ms);
// The zone by IANA name; nullptr for "UTC"; InvalidArgument when unknown.
Result<const date::time_zone*> FindZone(const std::string& name);

class Scheduler {
 public:
  // `switches` (may be null): slots of a switched-off trigger pass without a run.
  Scheduler(engine::Engine& engine, store::Store& store, std::shared_ptr<Metrics> metrics, const Clock& clock,
            std::shared_ptr<const TriggerSwitches> switches = nullptr);
  ~Scheduler();  // Stop()s
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Replaces the schedule triggers of `wf` (none: the workflow has none).
  void Set(const std::shared_ptr<const dsl::Workflow>& wf);
  // Fires every slot due at `now_ms`; returns the next slot's time (or
  // now + 60 s when there is none).
  int64_t Tick(int64_t now_ms);
  // A thread ticking at each next slot (at least every second).
  void Start();
  void Stop();

 private:
  struct Entry {
    std::string workflow;
    size_t index = 0;
    dsl::ScheduleTrigger trigger;
    CronSpec spec;
    const date::time_zone* zone = nullptr;
  };
  void Fire(const Entry& e, int64_t slot_ms);

  engine::Engine& engine_;
  store::Store& store_;
  std::shared_ptr<Metrics> metrics_;
  const Clock& clock_;
  std::shared_ptr<const TriggerSwitches> switches_;
  Mutex mu_;
  std::map<std::string, std::vector<Entry>> entries_ WEFT_GUARDED_BY(mu_);  // by workflow
  std::condition_variable_any wake_;
  bool stopping_ WEFT_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace weft::server
