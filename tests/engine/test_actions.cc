#include "test_actions.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "weft/core/json.h"
#include "weft/expr/expression.h"

namespace weft::testing {

void Ledger::Count(const std::string& run_id, const std::string& path) {
  std::lock_guard lock(mu_);
  ++calls_[{run_id, path}];
}

int Ledger::Calls(const std::string& run_id, const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find({run_id, path});
  return it == calls_.end() ? 0 : it->second;
}

std::map<std::string, int> Ledger::CallsOf(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  std::map<std::string, int> out;
  for (const auto& [key, n] : calls_) {
    if (key.first == run_id) out[key.second] = n;
  }
  return out;
}

void Ledger::SetSwitch(const std::string& name, bool on) {
  std::lock_guard lock(mu_);
  if (on) {
    on_.insert(name);
  } else {
    on_.erase(name);
  }
}

bool Ledger::Switch(const std::string& name) const {
  std::lock_guard lock(mu_);
  return on_.count(name) != 0;
}

namespace {

using engine::ActionContext;
using engine::ActionResult;

StatusCode CodeNamed(const Value& v, StatusCode fallback) {
  if (!v.is_string()) return fallback;
  auto parsed = ParseStatusCode(v.as_string());
  return parsed && *parsed != StatusCode::kOk ? *parsed : fallback;
}

class TestAction final : public engine::Action {
 public:
  enum class Kind { kFlaky, kSwitch, kSleep, kValue };
  TestAction(Kind kind, const char* name, Ledger& ledger) : kind_(kind), ledger_(ledger) { spec_.name = name; }
  const dsl::ActionSpec& spec() const override { return spec_; }

  boost::asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    const std::string run_id(ctx.run_id);
    const std::string path(ctx.step_path);
    ledger_.Count(run_id, path);
    const int calls = ledger_.Calls(run_id, path);
    switch (kind_) {
      case Kind::kFlaky: {
        int fail_times =
            ctx.inputs.get("fail_times").is_number() ? static_cast<int>(ctx.inputs.get("fail_times").as_number()) : 1;
        if (calls <= fail_times) {
          co_return ActionResult::Error(Status(CodeNamed(ctx.inputs.get("code"), StatusCode::kUnavailable),
                                               "flaky failure " + std::to_string(calls)));
        }
        Value out = Value::MakeObject();
        out.set("calls", calls);
        co_return ActionResult::Ok(out);
      }
      case Kind::kSwitch: {
        std::string name = ctx.inputs.get("name").is_string() ? ctx.inputs.get("name").as_string() : "default";
        if (ledger_.Switch(name)) co_return ActionResult::Error(UnavailableError("switch '" + name + "' is on"));
        Value out = Value::MakeObject();
        out.set("switch", name);
        co_return ActionResult::Ok(out);
      }
      case Kind::kSleep: {
        int64_t ms = ctx.inputs.get("ms").is_number() ? static_cast<int64_t>(ctx.inputs.get("ms").as_number()) : 0;
        boost::asio::steady_timer timer(ctx.executor, std::chrono::milliseconds(ms));
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) co_return ActionResult::Error(Status(StatusCode::kCancelled, "sleep interrupted"));
        Value out = Value::MakeObject();
        out.set("slept_ms", static_cast<double>(ms));
        if (ctx.inputs.get("value").is_defined()) out.set("value", ctx.inputs.get("value"));
        co_return ActionResult::Ok(out);
      }
      case Kind::kValue: co_return ActionResult::Ok(ctx.inputs.get("value"));
    }
    co_return ActionResult::Error(InternalError("unknown test action"));
  }

 private:
  Kind kind_;
  Ledger& ledger_;
  dsl::ActionSpec spec_;
};

class StandIn final : public engine::Action {
 public:
  StandIn(std::string name, Ledger& ledger) : ledger_(ledger) { spec_.name = std::move(name); }
  const dsl::ActionSpec& spec() const override { return spec_; }

  Status Configure(const Value& spec) {
    if (!spec.is_object()) return InvalidArgumentError("stand-in '" + spec_.name + "' must be a mapping");
    for (const auto& m : spec.members()) {
      if (m.key == "result" || m.key == "fail") {
        if (!m.value.is_string()) return InvalidArgumentError("stand-in '" + spec_.name + "'." + m.key + ": a string");
        const std::string& text = m.value.as_string();
        Result<expr::Expression> e = expr::Expression::Compile(text.starts_with("=") ? text.substr(1) : text);
        if (!e.ok()) return e.status().WithContext("stand-in '" + spec_.name + "'." + m.key);
        (m.key == "result" ? result_ : fail_) = std::move(e).value();
      } else if (m.key == "code") {
        code_ = CodeNamed(m.value, StatusCode::kUnavailable);
      } else if (m.key == "suspend" && m.value.is_string()) {
        suspend_ = m.value.as_string();
        spec_.suspends = true;
      } else {
        return InvalidArgumentError("stand-in '" + spec_.name + "': unknown key '" + m.key + "'");
      }
    }
    return Status::Ok();
  }

  boost::asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    const std::string run_id(ctx.run_id);
    const std::string path(ctx.step_path);
    ledger_.Count(run_id, path);
    if (!suspend_.empty()) co_return ActionResult::Suspend(engine::Suspension{suspend_, ctx.inputs, 0});
    Value bindings = Value::MakeObject();
    bindings.set("input", ctx.inputs);
    bindings.set("settings", ctx.settings);
    bindings.set("calls", ledger_.Calls(run_id, path));
    bindings.set("attempt", ctx.attempt);
    if (fail_) {
      Result<Value> f = fail_->Evaluate(Value::MakeObject(), bindings);
      if (!f.ok()) co_return ActionResult::Error(f.status());
      if (f->is_string()) co_return ActionResult::Error(Status(code_, f->as_string()));
    }
    if (!result_) co_return ActionResult::Ok(Value::MakeObject());
    Result<Value> r = result_->Evaluate(Value::MakeObject(), bindings);
    if (!r.ok()) co_return ActionResult::Error(r.status());
    co_return ActionResult::Ok(*r);
  }

 private:
  dsl::ActionSpec spec_;
  Ledger& ledger_;
  std::optional<expr::Expression> result_;
  std::optional<expr::Expression> fail_;
  StatusCode code_ = StatusCode::kUnavailable;
  std::string suspend_;
};

}  // namespace

Status RegisterStandIn(engine::ActionRegistry& registry, Ledger& ledger, const std::string& name, const Value& spec) {
  auto action = std::make_unique<StandIn>(name, ledger);
  WEFT_RETURN_IF_ERROR(action->Configure(spec));
  registry.Replace(std::move(action));
  return Status::Ok();
}

Status RegisterTestActions(engine::ActionRegistry& registry, Ledger& ledger) {
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<TestAction>(TestAction::Kind::kFlaky, "test_flaky", ledger)));
  WEFT_RETURN_IF_ERROR(
      registry.Register(std::make_unique<TestAction>(TestAction::Kind::kSwitch, "test_switch", ledger)));
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<TestAction>(TestAction::Kind::kSleep, "test_sleep", ledger)));
  return registry.Register(std::make_unique<TestAction>(TestAction::Kind::kValue, "test_value", ledger));
}

}  // namespace weft::testing
