// What an engine publishes as runs progress: a run's status changes, each
// step record committed, a task waiting for a person. The server turns
// these into Server-Sent Events; a client that reconnects with the last id
// it saw gets what it missed while it is still buffered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "weft/core/mutex.h"
#include "weft/core/value.h"

namespace weft::engine {

struct Event {
  enum class Kind : uint8_t {
    kRun,   // data: the run's JSON (store/record_json.h) without steps
    kStep,  // data: the step's JSON
    kTask,  // a run waits for a person: {path, kind, data} (user_input, approval, handover)
    // A message added to a conversation log (store/record_json.h's
    // MessageToJson): what a run said, a handover, what a user or an agent
    // wrote in a chat.
    kMessage,
    // Text a step streams as it is produced: {path, delta}. Broadcast only:
    // never kept, no id (the full text follows as a message or an output).
    kDelta,
  };
  uint64_t id = 0;  // increasing, from 1; the SSE event id
  Kind kind = Kind::kRun;
  std::string run_id;
  std::string workflow;
  Value data;
  // Published by another process sharing the database (it reached this one
  // through the store): shown live, but not counted here (metrics, traces)
  // nor sent on.
  bool remote = false;
};

std::string_view EventKindName(Event::Kind kind);  // "run", "step", "task", "message", "delta"

// What of an event's data is kept when all of it is too large: what it is
// and where it stands (ids, status, path, times), never its values, with
// `truncated: true`.
Value OutlineEventData(const Value& data);

// The recent events and the listeners of new ones. Thread-safe. What is kept
// is bounded in count (`capacity`) and in memory (`max_bytes`, roughly): an
// event whose data is over `max_event_bytes` is kept as its outline
// (listeners get it whole), and the oldest go first.
class EventLog {
 public:
  explicit EventLog(size_t capacity = 10'000, size_t max_bytes = size_t{32} << 20,
                    size_t max_event_bytes = size_t{16} << 10);

  // Gives `event` the next id, keeps it, and calls every listener (on the
  // calling thread, with no lock held). Returns the id.
  uint64_t Publish(Event event);
  // Calls every listener with `event` (id 0) without keeping it: for what
  // is only worth seeing live (streamed text).
  void Broadcast(const Event& event);

  // The kept events after `after_id`; `complete` is false when some of
  // them were dropped already (the reader must load the state afresh).
  std::vector<Event> Since(uint64_t after_id, bool* complete = nullptr) const;
  uint64_t last_id() const;

  // Listeners are called for every event published after Subscribe
  // returns. After Unsubscribe a call already under way on another thread
  // may still finish: a listener must keep alive what it uses (capture it
  // by shared_ptr).
  // `replays`: the listener may later ask Since for what it missed (an SSE
  // stream, which reconnects with Last-Event-ID).
  using Listener = std::function<void(const Event&)>;
  uint64_t Subscribe(Listener listener, bool replays = false);
  void Unsubscribe(uint64_t subscription);

  // From now on, events are kept only while a replaying listener is
  // subscribed and for `grace` after the last one left (time to reconnect).
  // Otherwise none is kept: a server that only answers webhooks pays
  // neither the sizing of its events nor freeing them long after, cold. A
  // reader that comes back later learns from Since that events were
  // dropped, as when the log is full.
  void KeepOnlyForReplay(std::chrono::milliseconds grace);

 private:
  struct Subscription {
    std::shared_ptr<const Listener> listener;
    bool replays = false;
  };
  std::vector<std::shared_ptr<const Listener>> ListenersLocked() const WEFT_REQUIRES(mu_);
  bool KeepingLocked() const WEFT_REQUIRES(mu_);

  struct Kept {
    Event event;
    size_t bytes = 0;
  };
  const size_t capacity_;
  const size_t max_bytes_;
  const size_t max_event_bytes_;
  mutable Mutex mu_;
  std::deque<Kept> events_ WEFT_GUARDED_BY(mu_);
  size_t kept_bytes_ WEFT_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ WEFT_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Subscription> listeners_ WEFT_GUARDED_BY(mu_);
  uint64_t next_subscription_ WEFT_GUARDED_BY(mu_) = 1;
  // KeepOnlyForReplay: set, the grace; the replaying listeners subscribed;
  // until when events are kept after the last one left.
  std::optional<std::chrono::milliseconds> replay_grace_ WEFT_GUARDED_BY(mu_);
  int replaying_ WEFT_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point keep_until_ WEFT_GUARDED_BY(mu_);
  // Read without the lock to skip sizing an event that will not be kept
  // (decided again under the lock).
  std::atomic<bool> keeping_{true};
};

}  // namespace weft::engine
