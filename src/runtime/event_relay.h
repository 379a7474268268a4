// Carries the engine's live events between the processes that share a
// database: what this process publishes goes out through the store's
// Broadcast, and what the others publish comes in as events of this
// process's log (marked remote), so that a browser or a chat connected to
// any process sees every run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weft/core/mutex.h"
#include "weft/engine/events.h"
#include "weft/store/store.h"

namespace weft::runtime {

class EventRelay {
 public:
  // Starts relaying between `log` and `store` (which must broadcast).
  static std::shared_ptr<EventRelay> Start(engine::EventLog& log, store::Store& store);
  // Stops both ways; an event arriving meanwhile is dropped.
  void Stop();

  // An event as a message (at most store::Store::kMaxBroadcastBytes: big
  // records go without their inputs and outputs, marked "truncated").
  static std::string Encode(const engine::Event& e);
  // The event a message carries (remote set); nullopt for a malformed one.
  static std::optional<engine::Event> Decode(std::string_view message);

 private:
  EventRelay(engine::EventLog& log, store::Store& store) : log_(&log), store_(store) {}
  void Receive(std::string_view message);

  Mutex mu_;
  engine::EventLog* log_ WEFT_GUARDED_BY(mu_);
  store::Store& store_;
  uint64_t subscription_ = 0;
};

}  // namespace weft::runtime
