#include "weft/engine/events.h"

#include <algorithm>
#include <memory>
#include <optional>

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
  // Sized before the lock (what is kept of a large event is its outline),
  // unless nothing is being kept.
  auto sized = [this](const Event& e) {
    constexpr size_t kOverhead = sizeof(Event) + 32;
    Kept k{e, kOverhead + e.run_id.size() + e.workflow.size() + ApproxBytes(e.data, max_event_bytes_)};
    if (k.bytes > max_event_bytes_) {
      k.event.data = OutlineEventData(e.data);
      k.bytes = kOverhead + e.run_id.size() + e.workflow.size() + ApproxBytes(k.event.data);
    }
    return k;
  };
  std::optional<Kept> kept;
  if (keeping_.load(std::memory_order_relaxed)) kept = sized(event);
  std::vector<std::shared_ptr<const Listener>> listeners;
  std::optional<std::deque<Kept>> dropped;  // all that was kept, freed after the lock
  {
    MutexLock lock(mu_);
    event.id = next_id_++;
    const bool keep = KeepingLocked();
    keeping_.store(keep, std::memory_order_relaxed);
    // The kept ids stay consecutive (Since counts on it): after a pause in
    // keeping, what was kept before it goes.
    if (!events_.empty() && (!keep || events_.back().event.id + 1 != event.id)) {
      dropped.emplace().swap(events_);
      kept_bytes_ = 0;
    }
    if (keep) {
      if (!kept) kept = sized(event);  // keeping started since the check above
      kept->event.id = event.id;
      kept_bytes_ += kept->bytes;
      events_.push_back(std::move(*kept));
      while (events_.size() > 1 && (events_.size() > capacity_ || kept_bytes_ > max_bytes_)) {
        kept_bytes_ -= events_.front().bytes;
        events_.pop_front();
      }
    }
    listeners = ListenersLocked();
  }
  for (const auto& l : listeners) (*l)(event);
  return event.id;
}

bool EventLog::KeepingLocked() const {
  return !replay_grace_ || replaying_ > 0 || std::chrono::steady_clock::now() < keep_until_;
}

void EventLog::KeepOnlyForReplay(std::chrono::milliseconds grace) {
  MutexLock lock(mu_);
  replay_grace_ = grace;
  keeping_.store(KeepingLocked(), std::memory_order_relaxed);
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
  for (const auto& [id, s] : listeners_) out.push_back(s.listener);
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

uint64_t EventLog::Subscribe(Listener listener, bool replays) {
  MutexLock lock(mu_);
  const uint64_t id = next_subscription_++;
  listeners_[id] = Subscription{std::make_shared<const Listener>(std::move(listener)), replays};
  if (replays) {
    ++replaying_;
    keeping_.store(true, std::memory_order_relaxed);
  }
  return id;
}

void EventLog::Unsubscribe(uint64_t subscription) {
  MutexLock lock(mu_);
  auto it = listeners_.find(subscription);
  if (it == listeners_.end()) return;
  if (it->second.replays && --replaying_ == 0 && replay_grace_) {
    keep_until_ = std::chrono::steady_clock::now() + *replay_grace_;
  }
  listeners_.erase(it);
}

}  // namespace weft::engine
