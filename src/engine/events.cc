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

EventLog::EventLog(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

uint64_t EventLog::Publish(Event event) {
  std::vector<std::shared_ptr<const Listener>> listeners;
  {
    MutexLock lock(mu_);
    event.id = next_id_++;
    events_.push_back(event);
    if (events_.size() > capacity_) events_.pop_front();
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
  const uint64_t first_kept = events_.empty() ? next_id_ : events_.front().id;
  if (complete != nullptr) *complete = after_id + 1 >= first_kept;
  const size_t skip = after_id + 1 > first_kept ? static_cast<size_t>(after_id + 1 - first_kept) : 0;
  for (size_t i = skip; i < events_.size(); ++i) out.push_back(events_[i]);
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
