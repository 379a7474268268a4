// Which triggers are switched off (through the API), by workflow and the
// trigger's index in its `triggers:` list. Kept in the store
// ("trigger:disabled:<workflow>:<index>") so that a restart keeps them off;
// read by every kind of trigger before it starts a run. Thread-safe.
#pragma once

#include <set>
#include <string>
#include <utility>

#include "weft/core/mutex.h"
#include "weft/store/store.h"

namespace weft::server {

class TriggerSwitches {
 public:
  static std::string Key(const std::string& workflow, size_t index) {
    return "trigger:disabled:" + workflow + ":" + std::to_string(index);
  }

  bool Enabled(const std::string& workflow, size_t index) const {
    MutexLock lock(mu_);
    return off_.count({workflow, index}) == 0;
  }

  // Reads the stored switches of a workflow's `count` triggers (blocking).
  void Load(store::Store& store, const std::string& workflow, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      Result<std::optional<std::string>> v = store.GetState(Key(workflow, i));
      if (v.ok()) Remember(workflow, i, !(v->has_value() && **v == "1"));
    }
  }

  // Stores and applies a switch (blocking).
  Status Switch(store::Store& store, const std::string& workflow, size_t index, bool enabled) {
    WEFT_RETURN_IF_ERROR(store.PutState(Key(workflow, index), enabled ? "0" : "1"));
    Remember(workflow, index, enabled);
    return Status::Ok();
  }

 private:
  void Remember(const std::string& workflow, size_t index, bool enabled) {
    MutexLock lock(mu_);
    if (enabled) {
      off_.erase({workflow, index});
    } else {
      off_.insert({workflow, index});
    }
  }

  mutable Mutex mu_;
  std::set<std::pair<std::string, size_t>> off_ WEFT_GUARDED_BY(mu_);
};

}  // namespace weft::server
