#include "weft/actions/builtin.h"

#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/expr/expression.h"
#include "weft/store/record_json.h"
#include "weft/store/store.h"

namespace weft::actions {
namespace {

using engine::ActionContext;
using engine::ActionResult;
using engine::Suspension;

dsl::ActionSpec Spec(const char* name, const char* description, bool suspends, const char* input_schema,
                     const char* output_schema, const char* settings_schema) {
  dsl::ActionSpec spec;
  spec.name = name;
  spec.description = description;
  spec.suspends = suspends;
  spec.immediate = true;  // every SimpleAction computes its result at once
  spec.settings_schema = dsl::Schema::FromLiteral(
      settings_schema != nullptr ? settings_schema : R"({"type":"object","additionalProperties":false})");
  if (input_schema != nullptr) spec.input_schema = dsl::Schema::FromLiteral(input_schema);
  if (output_schema != nullptr) spec.output_schema = dsl::Schema::FromLiteral(output_schema);
  return spec;
}

// An action defined by its spec and one function.
class SimpleAction final : public engine::Action {
 public:
  using Fn = std::function<ActionResult(ActionContext&)>;
  // One that makes a blocking call awaits it (engine::Blocking).
  using CoFn = std::function<boost::asio::awaitable<ActionResult>(ActionContext&)>;
  SimpleAction(dsl::ActionSpec spec, Fn fn, CoFn co_fn)
      : spec_(std::move(spec)), fn_(std::move(fn)), co_fn_(std::move(co_fn)) {}
  const dsl::ActionSpec& spec() const override { return spec_; }
  boost::asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    if (co_fn_) co_return co_await co_fn_(ctx);
    co_return fn_(ctx);
  }

 private:
  dsl::ActionSpec spec_;
  Fn fn_;
  CoFn co_fn_;
};

std::string StringInput(const ActionContext& ctx, std::string_view key) {
  Value v = ctx.inputs.get(key);
  if (v.is_string()) return v.as_string();
  if (v.is_undefined()) return "";
  return ToJson(v);
}

ActionResult Set(ActionContext& ctx) { return ActionResult::Ok(ctx.inputs); }

ActionResult Log(ActionContext& ctx) {
  std::string level = ctx.inputs.get("level").is_string() ? ctx.inputs.get("level").as_string() : "info";
  std::string message = StringInput(ctx, "message");
  if (ctx.log) ctx.log(level, message);
  Value detail = Value::MakeObject();
  detail.set("level", level);
  detail.set("message", ctx.inputs.get("message"));
  ctx.detail = detail;
  return ActionResult::Ok(Value::Null());
}

ActionResult Fail(ActionContext& ctx) {
  StatusCode code = StatusCode::kFailedPrecondition;
  if (Value c = ctx.inputs.get("code"); c.is_string()) {
    if (auto parsed = ParseStatusCode(c.as_string()); parsed && *parsed != StatusCode::kOk) code = *parsed;
  }
  return ActionResult::Error(Status(code, StringInput(ctx, "message")));
}

// Publishes a named event: its result (committed with the step, so once
// per step) is what `weft serve` starts the event's subscribers from.
ActionResult Emit(ActionContext& ctx) {
  Value out = Value::MakeObject();
  out.set("event", ctx.inputs.get("event"));
  out.set("id", std::string(ctx.run_id) + "/" + std::string(ctx.step_path));
  out.set("payload", ctx.inputs.get("payload").is_defined() ? ctx.inputs.get("payload") : Value::MakeObject());
  return ActionResult::Ok(std::move(out));
}

ActionResult AwaitUserInput(ActionContext& ctx) {
  return ActionResult::Suspend(Suspension{"user_input", ctx.inputs, 0});
}

ActionResult Approval(ActionContext& ctx) { return ActionResult::Suspend(Suspension{"approval", ctx.inputs, 0}); }

// Where the built-in actions say things: the conversation log, and who
// follows it live.
struct Conversations {
  store::Store* store = nullptr;
  engine::EventLog* events = nullptr;
};

// Says something into the run's conversation (its chat's, or the run's id,
// unless the step names another). Keyed by run and step: said once, however
// often the step runs again. The store's write waits for its commit: on the
// engine's blocking pool, not on the run's thread.
boost::asio::awaitable<Result<store::MessageRecord>> Say(Conversations to, const ActionContext& ctx, std::string kind,
                                                         Value content, std::string key_suffix) {
  if (to.store == nullptr) co_return FailedPreconditionError("the conversation log needs a store");
  store::MessageRecord m;
  const Value conversation = ctx.inputs.get("conversation");
  m.conversation = conversation.is_string()    ? conversation.as_string()
                   : !ctx.conversation.empty() ? std::string(ctx.conversation)
                                               : std::string(ctx.run_id);
  m.run_id = std::string(ctx.run_id);
  m.step_path = std::string(ctx.step_path);
  m.key = ctx.IdempotencyKey().append(key_suffix);
  m.role = "assistant";
  m.kind = std::move(kind);
  m.content = std::move(content);
  m.created_ms = ctx.clock->NowMillis();
  auto append = [&to, &m] { return to.store->AppendMessage(std::move(m)); };
  Result<store::MessageRecord> said = co_await engine::Blocking(ctx, std::move(append));
  // Told again when the step runs again (the same seq): listeners skip
  // what they have seen.
  if (said.ok() && to.events != nullptr) {
    to.events->Publish(
        {0, engine::Event::Kind::kMessage, said->run_id, std::string(ctx.workflow), store::MessageToJson(*said)});
  }
  co_return said;
}

boost::asio::awaitable<ActionResult> SendMessage(Conversations to, ActionContext& ctx) {
  Value content = Value::MakeObject();
  for (const char* key : {"text", "quick_replies", "buttons"}) {
    if (Value v = ctx.inputs.get(key); v.is_defined()) content.set(key, v);
  }
  Result<store::MessageRecord> said = co_await Say(to, ctx, "text", std::move(content), "");
  if (!said.ok()) co_return ActionResult::Error(said.status());
  Value out = Value::MakeObject();
  out.set("conversation", said->conversation);
  out.set("seq", static_cast<double>(said->seq));
  co_return ActionResult::Ok(out);
}

// Hands the conversation to a human queue (said into the conversation, for
// the inbox) and waits until it is handed back.
boost::asio::awaitable<ActionResult> Handover(Conversations to, ActionContext& ctx) {
  if (to.store != nullptr) {
    Value content = Value::MakeObject();
    content.set("queue", ctx.inputs.get("queue"));
    if (Value r = ctx.inputs.get("reason"); r.is_defined()) content.set("reason", r);
    Result<store::MessageRecord> said = co_await Say(to, ctx, "handover", std::move(content), "/handover");
    if (!said.ok()) co_return ActionResult::Error(said.status());
  }
  co_return ActionResult::Suspend(Suspension{"handover", ctx.inputs, 0});
}

ActionResult Wait(ActionContext& ctx) {
  const int64_t now = ctx.clock->NowMillis();
  int64_t wake = now;
  if (Value d = ctx.inputs.get("duration_ms"); d.is_number()) {
    wake = SaturatingInt64(static_cast<double>(now) + d.as_number());
  } else if (Value u = ctx.inputs.get("until"); u.is_number()) {
    wake = SaturatingInt64(u.as_number());
  } else if (u.is_string()) {
    static const Result<expr::Expression> to_millis = expr::Expression::Compile("$toMillis($)");
    Result<Value> ms = to_millis->Evaluate(u);
    if (!ms.ok() || !ms->is_number()) {
      return ActionResult::Error(InvalidArgumentError("wait: 'until' is not an ISO 8601 time: " + u.as_string()));
    }
    wake = SaturatingInt64(ms->as_number());
  } else {
    return ActionResult::Error(InvalidArgumentError("wait needs 'duration_ms' or 'until'"));
  }
  if (wake <= now) {
    Value out = Value::MakeObject();
    out.set("woke_at_ms", static_cast<double>(now));
    out.set("scheduled_at_ms", static_cast<double>(wake));
    return ActionResult::Ok(out);
  }
  Value data = Value::MakeObject();
  data.set("wake_at_ms", static_cast<double>(wake));
  return ActionResult::Suspend(Suspension{"timer", data, wake});
}

class CallWorkflow final : public engine::Action {
 public:
  CallWorkflow()
      : spec_(Spec("call_workflow", "Runs another workflow as a child run; its result is the child's outputs", false,
                   R"({"type":"object","required":["workflow"],"properties":{
                        "workflow":{"type":"string","minLength":1},
                        "version":{"type":"integer","minimum":0},
                        "input":{"type":"object"}}})",
                   nullptr, nullptr)) {
    spec_.immediate = false;  // it waits for the child run
  }
  const dsl::ActionSpec& spec() const override { return spec_; }
  boost::asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    if (ctx.children == nullptr) co_return ActionResult::Error(InternalError("call_workflow needs a child runner"));
    int64_t version =
        ctx.inputs.get("version").is_number() ? SaturatingInt64(ctx.inputs.get("version").as_number()) : 0;
    Value input = ctx.inputs.get("input");
    if (input.is_undefined()) input = Value::MakeObject();
    co_return co_await ctx.children->RunChild(ctx, ctx.inputs.get("workflow").as_string(), version, input);
  }

 private:
  dsl::ActionSpec spec_;
};

}  // namespace

Status RegisterBuiltinActions(engine::ActionRegistry& registry, store::Store* conversations, engine::EventLog* events) {
  const Conversations log{conversations, events};
  struct Def {
    const char* name;
    const char* description;
    bool suspends;
    const char* input_schema;
    const char* output_schema;
    SimpleAction::Fn fn;
    const char* settings_schema = nullptr;  // none
    SimpleAction::CoFn co_fn = nullptr;     // instead of fn: one that awaits
  };
  const Def defs[] = {
      {"set", "Its result is its evaluated inputs", false, R"({"type":"object"})", nullptr, Set},
      {"log", "Writes a message into the run's history", false,
       R"({"type":"object","required":["message"],"properties":{
            "level":{"enum":["debug","info","warn","error"]}}})",
       nullptr, Log},
      {"emit", "Publishes a named event; workflows with `trigger: {event: name}` start from it", false,
       R"({"type":"object","required":["event"],"properties":{"event":{"type":"string","minLength":1,
            "maxLength":200},"payload":{"type":"object"}}})",
       R"({"type":"object","required":["event","id","payload"]})", Emit},
      {"fail", "Fails the step with a message", false,
       R"({"type":"object","required":["message"],"properties":{"message":{"type":"string"},"code":{"enum":[
            "CANCELLED","INVALID_ARGUMENT","DEADLINE_EXCEEDED","NOT_FOUND","ALREADY_EXISTS","PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED","FAILED_PRECONDITION","ABORTED","OUT_OF_RANGE","UNIMPLEMENTED","INTERNAL",
            "UNAVAILABLE","UNAUTHENTICATED"]}}})",
       nullptr, Fail},
      {"await_user_input", "Waits for the next user message; its result is that message", true,
       R"({"type":"object","properties":{"prompt":{"type":"string"},"expect":{"type":"object"}}})", nullptr,
       AwaitUserInput,
       // Hexabot's examples mark waiting steps with `await_user: true`; it
       // always waits.
       R"({"type":"object","additionalProperties":false,"properties":{"await_user":{"type":"boolean"}}})"},
      {"approval", "Waits for a reviewer's decision, which may edit the data", true, R"({"type":"object"})",
       R"({"type":"object","required":["approved"],"properties":{
            "approved":{"type":"boolean"},"by":{"type":"string"},"comment":{"type":"string"}}})",
       Approval},
      {"handover", "Hands the conversation to a human and waits until it is handed back", true,
       R"({"type":"object","required":["queue"],"properties":{"queue":{"type":"string","minLength":1},
            "reason":{"type":"string"}}})",
       R"({"type":"object"})", nullptr, nullptr, [log](ActionContext& ctx) { return Handover(log, ctx); }},
      {"send_message", "Says something into the run's conversation: text, quick replies, buttons", false,
       R"({"type":"object","anyOf":[{"required":["text"]},{"required":["quick_replies"]},{"required":["buttons"]}],
            "properties":{"text":{"type":"string"},"conversation":{"type":"string","minLength":1},
            "quick_replies":{"type":"array","items":{"anyOf":[{"type":"string"},{"type":"object",
              "required":["title"],"properties":{"title":{"type":"string"},"payload":{"type":"string"}}}]}},
            "buttons":{"type":"array","items":{"type":"object","required":["title"],"properties":{
              "title":{"type":"string"},"url":{"type":"string"},"payload":{"type":"string"}}}}}})",
       R"({"type":"object","required":["conversation","seq"]})", nullptr, nullptr,
       [log](ActionContext& ctx) { return SendMessage(log, ctx); }},
      {"wait", "Waits for a duration or until a time", true,
       R"({"type":"object","properties":{"duration_ms":{"type":"number","minimum":0},
            "until":{"type":["string","number"]}}})",
       R"({"type":"object"})", Wait},
  };
  for (const Def& d : defs) {
    dsl::ActionSpec spec = Spec(d.name, d.description, d.suspends, d.input_schema, d.output_schema, d.settings_schema);
    // What only shapes the run's own data (an emitted event reaches others
    // from the store, after its step's commit).
    const std::string_view name = d.name;
    spec.pure = name == "set" || name == "log" || name == "fail" || name == "emit";
    WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<SimpleAction>(std::move(spec), d.fn, d.co_fn)));
  }
  return registry.Register(std::make_unique<CallWorkflow>());
}

}  // namespace weft::actions
