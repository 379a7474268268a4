// Per-conversation memory: `remember` writes recent messages, facts and the
// running summary of a conversation into the store; `recall` reads them so
// that later steps can put exactly what they need into their `context`.
// Writes are idempotent per attempt (the idempotency key is kept with the
// memory), so a replay after a crash does not append a message twice.
#include "memory.h"

#include <mutex>

#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/dsl/schema.h"

namespace weft::ai::internal {

namespace asio = boost::asio;
using engine::ActionContext;
using engine::ActionResult;

namespace {

constexpr size_t kKeptKeys = 64;
constexpr int64_t kDefaultMessages = 20;

Value Empty() {
  Value m = Value::MakeObject();
  m.set("messages", Value::MakeArray());
  m.set("summary", "");
  m.set("facts", Value::MakeObject());
  return m;
}

// The memory without its bookkeeping.
Value Public(const Value& memory, int64_t last_messages) {
  Value out = Value::MakeObject();
  Value messages = memory.get("messages");
  Value kept = Value::MakeArray();
  if (messages.is_array()) {
    const auto& all = messages.as_array();
    const size_t from = all.size() > static_cast<size_t>(last_messages) ? all.size() - last_messages : 0;
    for (size_t i = from; i < all.size(); ++i) kept.push_back(all[i]);
  }
  out.set("messages", kept);
  out.set("summary", memory.get("summary").is_string() ? memory.get("summary") : Value(""));
  out.set("facts", memory.get("facts").is_object() ? memory.get("facts") : Value::MakeObject());
  return out;
}

Value Copy(const Value& object) {
  Value c = Value::MakeObject();
  if (object.is_object()) {
    for (const auto& m : object.members()) c.set(m.key, m.value);
  }
  return c;
}

Value MessageOf(const Value& v, int64_t now_ms) {
  Value m = Value::MakeObject();
  if (v.is_string()) {
    m.set("role", "user");
    m.set("text", v);
  } else {
    m.set("role", v.get("role").is_string() ? v.get("role") : Value("user"));
    m.set("text", v.get("text"));
  }
  m.set("at_ms", now_ms);
  return m;
}

}  // namespace

std::mutex& MemoryMutex() {
  static std::mutex mu;
  return mu;
}

Result<Value> UpdateMemory(store::Store& store, const std::string& conversation, const std::string& key,
                           const std::function<void(Value& memory)>& change) {
  // One read-modify-write at a time in this process (memory of a
  // conversation is written by its runs, which rarely overlap).
  std::lock_guard lock(MemoryMutex());
  WEFT_ASSIGN_OR_RETURN(Value stored, store.GetMemory(conversation));
  Value memory = stored.is_object() ? Copy(stored) : Empty();
  Value applied = memory.get("applied");
  if (applied.is_array()) {
    for (const Value& k : applied.as_array()) {
      if (k == Value(key)) return memory;  // this attempt already wrote
    }
  }
  change(memory);
  Value keys = Value::MakeArray();
  if (applied.is_array()) {
    const auto& all = applied.as_array();
    for (size_t i = all.size() >= kKeptKeys ? all.size() - kKeptKeys + 1 : 0; i < all.size(); ++i) {
      keys.push_back(all[i]);
    }
  }
  keys.push_back(Value(key));
  memory.set("applied", keys);
  WEFT_RETURN_IF_ERROR(store.PutMemory(conversation, memory));
  return memory;
}

namespace {

class MemoryAction final : public engine::Action {
 public:
  enum class Kind { kRemember, kRecall };
  MemoryAction(Kind kind, store::Store* store) : kind_(kind), store_(store) {
    spec_.immediate = true;  // a store read or write, no waiting
    if (kind == Kind::kRemember) {
      spec_.name = "remember";
      spec_.description = "Writes messages, facts or the summary into a conversation's memory";
      spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["conversation"],"properties":{
          "conversation":{"type":"string","minLength":1},
          "message":{"type":["string","object"]},
          "messages":{"type":"array"},
          "facts":{"type":"object"},
          "summary":{"type":"string"}}})");
    } else {
      spec_.name = "recall";
      spec_.description = "Reads a conversation's memory: recent messages, summary, facts";
      spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["conversation"],"properties":{
          "conversation":{"type":"string","minLength":1},
          "messages":{"type":"integer","minimum":0}}})");
    }
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["messages","summary","facts"]})");
    spec_.settings_schema = dsl::Schema::FromLiteral(
        kind == Kind::kRemember ? R"({"type":"object","properties":{"keep_messages":{"type":"integer","minimum":0}}})"
                                : R"({"type":"object","additionalProperties":false})");
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  // A store read, or a read and a write that waits for its commit: on the
  // engine's blocking pool.
  asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    auto run = [this, &ctx] { return Run(ctx); };
    co_return co_await engine::Blocking(ctx, std::move(run));
  }

 private:
  ActionResult Run(ActionContext& ctx) const {
    if (store_ == nullptr) return ActionResult::Error(FailedPreconditionError("conversation memory needs a store"));
    const std::string conversation = ctx.inputs.get("conversation").as_string();
    Value limit = kind_ == Kind::kRecall ? ctx.inputs.get("messages") : ctx.settings.get("keep_messages");
    const int64_t last = limit.is_number() ? SaturatingInt64(limit.as_number()) : kDefaultMessages;
    if (kind_ == Kind::kRecall) {
      Result<Value> memory = store_->GetMemory(conversation);
      if (!memory.ok()) return ActionResult::Error(memory.status());
      return ActionResult::Ok(Public(*memory, last));
    }
    const int64_t now = ctx.clock != nullptr ? ctx.clock->NowMillis() : SystemClock::Instance().NowMillis();
    const Value& in = ctx.inputs;
    Result<Value> memory = UpdateMemory(*store_, conversation, ctx.AttemptKey(), [&](Value& m) {
      Value messages = m.get("messages").is_array() ? m.get("messages") : Value::MakeArray();
      Value list = Value::MakeArray(messages.as_array());
      if (Value one = in.get("message"); one.is_defined()) list.push_back(MessageOf(one, now));
      if (Value many = in.get("messages"); many.is_array()) {
        for (const Value& v : many.as_array()) list.push_back(MessageOf(v, now));
      }
      // Only the recent ones stay; the summary carries what is older.
      Value kept = Value::MakeArray();
      const auto& all = list.as_array();
      for (size_t i = all.size() > static_cast<size_t>(last) ? all.size() - last : 0; i < all.size(); ++i) {
        kept.push_back(all[i]);
      }
      m.set("messages", kept);
      if (Value facts = in.get("facts"); facts.is_object()) {
        Value merged = Copy(m.get("facts"));
        for (const auto& f : facts.members()) {
          if (f.value.is_null()) {
            merged.erase(f.key);  // null forgets a fact
          } else {
            merged.set(f.key, f.value);
          }
        }
        m.set("facts", merged);
      }
      if (Value summary = in.get("summary"); summary.is_string()) m.set("summary", summary);
    });
    if (!memory.ok()) return ActionResult::Error(memory.status());
    return ActionResult::Ok(Public(*memory, last));
  }

  Kind kind_;
  store::Store* store_;
  dsl::ActionSpec spec_;
};

}  // namespace

Status RegisterMemoryActions(engine::ActionRegistry& registry, store::Store* store) {
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<MemoryAction>(MemoryAction::Kind::kRemember, store)));
  return registry.Register(std::make_unique<MemoryAction>(MemoryAction::Kind::kRecall, store));
}

}  // namespace weft::ai::internal
