#include "event_relay.h"

#include <vector>

#include "weft/core/json.h"

namespace weft::runtime {
namespace {

constexpr engine::Event::Kind kKinds[] = {engine::Event::Kind::kRun, engine::Event::Kind::kStep,
                                          engine::Event::Kind::kTask, engine::Event::Kind::kMessage,
                                          engine::Event::Kind::kDelta};

}  // namespace

std::shared_ptr<EventRelay> EventRelay::Start(engine::EventLog& log, store::Store& store) {
  std::shared_ptr<EventRelay> relay(new EventRelay(log, store));
  std::weak_ptr<EventRelay> weak = relay;
  store.OnBroadcast([weak](std::string_view message) {
    if (std::shared_ptr<EventRelay> r = weak.lock()) r->Receive(message);
  });
  relay->subscription_ = log.Subscribe([weak](const engine::Event& e) {
    if (e.remote) return;  // it came from another process: not sent back
    std::shared_ptr<EventRelay> r = weak.lock();
    if (!r) return;
    std::vector<std::string> one;
    one.push_back(Encode(e));
    r->store_.Broadcast(std::move(one));
  });
  return relay;
}

void EventRelay::Stop() {
  engine::EventLog* log = nullptr;
  {
    MutexLock lock(mu_);
    log = log_;
    log_ = nullptr;
  }
  store_.OnBroadcast(nullptr);
  if (log != nullptr) log->Unsubscribe(subscription_);
}

void EventRelay::Receive(std::string_view message) {
  std::optional<engine::Event> e = Decode(message);
  if (!e) return;
  // Held while publishing: Stop waits for a delivery under way.
  MutexLock lock(mu_);
  if (log_ == nullptr) return;
  if (e->kind == engine::Event::Kind::kDelta) {
    log_->Broadcast(*e);
  } else {
    log_->Publish(std::move(*e));
  }
}

std::string EventRelay::Encode(const engine::Event& e) {
  Value doc = Value::MakeObject();
  doc.set("k", EventKindName(e.kind));
  doc.set("r", e.run_id);
  doc.set("w", e.workflow);
  doc.set("d", e.data);
  std::string text = ToJson(doc);
  if (text.size() > store::Store::kMaxBroadcastBytes) {
    doc.set("d", engine::OutlineEventData(e.data));
    text = ToJson(doc);
    if (text.size() > store::Store::kMaxBroadcastBytes) {
      doc.set("d", Value::MakeObject());
      text = ToJson(doc);
    }
  }
  return text;
}

std::optional<engine::Event> EventRelay::Decode(std::string_view message) {
  Result<Value> doc = ParseJson(message);
  if (!doc.ok() || !doc->is_object()) return std::nullopt;
  const Value kind = doc->get("k");
  const Value run = doc->get("r");
  const Value workflow = doc->get("w");
  if (!kind.is_string() || !run.is_string() || !workflow.is_string()) return std::nullopt;
  for (engine::Event::Kind k : kKinds) {
    if (EventKindName(k) != kind.as_string()) continue;
    engine::Event e;
    e.kind = k;
    e.run_id = run.as_string();
    e.workflow = workflow.as_string();
    e.data = doc->get("d");
    e.remote = true;
    return e;
  }
  return std::nullopt;
}

}  // namespace weft::runtime
