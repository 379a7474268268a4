#include "weft/engine/events.h"

#include <algorithm>
#include <memory>

namespace weft::engine {

std::string_view EventKindName(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::kRun: return "run";
    case Event::Kind::kStep: return "step";
    case Event::Kind::kTask: return "task";
    case Event::Kind::kMessage: return "message";
    case Event::Kind::kDelta: return "delta";
  }
  return "run";
}

Value OutlineEventData(const Value& data) {
  static constexpr const char* kKeep[] = {"id",         "run_id",       "workflow", "version", "status",
                                          "path",       "task",         "action",   "attempt", "seq",
                                          "error_code", "started_ms",   "ended_ms", "trigger", "created_ms",
                                          "updated_ms", "conversation", "key",      "role",    "kind"};
  Value out = Value::MakeObject();
  for (const char* key : kKeep) {
    if (Value v = data.get(key); v.is_defined() && !v.is_object() && !v.is_array()) out.set(key, v);
  }
  if (Value waiting = data.get("waiting"); waiting.is_object()) {
    Value kind = Value::MakeObject();
    kind.set("kind", waiting.get("kind"));
    out.set("waiting", kind);
  }
  out.set("truncated", true);
  return out;
}

EventLog::EventLog(size_t capacity, size_t max_bytes, size_t max_event_bytes)
    : capacity_(std::max<size_t>(capacity, 1)), max_bytes_(max_bytes), max_event_bytes_(max_event_bytes) {}

uint64_t EventLog::Publish(Event event) {
  // Sized before the lock: what is kept of a large event is its outline.
  constexpr size_t kOverhead = sizeof(Event) + 32;
  size_t bytes = kOverhead + event.run_id.size() + event.workflow.size() + ApproxBytes(event.data, max_event_bytes_);
  Event kept = event;
  if (bytes > max_event_bytes_) {
    kept.data = OutlineEventData(event.data);
    bytes = kOverhead + kept.run_id.size() + kept.workflow.size() + ApproxBytes(kept.data);
  }
  std::vector<std::shared_ptr<const Listener>> listeners;
  {
    MutexLock lock(mu_);
    event.id = next_id_++;
    kept.id = event.id;
    events_.push_back({std::move(kept), bytes});
    kept_bytes_ += bytes;
    while (events_.size() > 1 && (events_.size() > capacity_ || kept_bytes_ > max_bytes_)) {
      kept_bytes_ -= events_.front().bytes;
      events_.pop_front();
    }
    listeners = ListenersLocked();
  }
  for (const auto& l : listeners) (*l)(event);
  return event.id;
}

void EventLog::Broadcast(const Event& event) {
  std::vector<std::shared_ptr<const Listener>> listeners;
  {
    MutexLock lock(mu_);
    listeners = ListenersLocked();
  }
  for (const auto& l : listeners) (*l)(event);
}

std::vector<std::shared_ptr<const EventLog::Listener>> EventLog::ListenersLocked() const {
  std::vector<std::shared_ptr<const Listener>> out;
  out.reserve(listeners_.size());
  for (const auto& [id, l] : listeners_) out.push_back(l);
  return out;
}

std::vector<Event> EventLog::Since(uint64_t after_id, bool* complete) const {
  MutexLock lock(mu_);
  std::vector<Event> out;
  // Ids are consecutive: the first kept one says what was dropped.
  const uint64_t first_kept = events_.empty() ? next_id_ : events_.front().event.id;
  if (complete != nullptr) *complete = after_id + 1 >= first_kept;
  const size_t skip = after_id + 1 > first_kept ? static_cast<size_t>(after_id + 1 - first_kept) : 0;
  for (size_t i = skip; i < events_.size(); ++i) out.push_back(events_[i].event);
  return out;
}

uint64_t EventLog::last_id() const {
  MutexLock lock(mu_);
  return next_id_ - 1;
}

uint64_t EventLog::Subscribe(Listener listener) {
  MutexLock lock(mu_);
  const uint64_t id = next_subscription_++;
  listeners_[id] = std::make_shared<const Listener>(std::move(listener));
  return id;
}

void EventLog::Unsubscribe(uint64_t subscription) {
  MutexLock lock(mu_);
  listeners_.erase(subscription);
}

}  // namespace weft::engine
