// What tasks need around their action: errors as values, secrets kept out of
// the history, declared actions' calls, approvals.
#include "executor_internal.h"

namespace weft::engine::internal {

std::string IterationSuffix(const std::string& outer, int64_t i) {
  if (outer.empty()) return "[" + std::to_string(i) + "]";
  return outer.substr(0, outer.size() - 1) + "." + std::to_string(i) + "]";
}

Value ErrorObject(const Status& s) {
  Value e = Value::MakeObject();
  e.set("code", ErrorCodeName(s));
  e.set("message", s.message());
  return e;
}

bool HoldsFunction(const Value& v) {
  if (v.is_function()) return true;
  if (v.is_array()) {
    for (const Value& item : v.as_array()) {
      if (HoldsFunction(item)) return true;
    }
  } else if (v.is_object()) {
    for (const auto& m : v.members()) {
      if (HoldsFunction(m.value)) return true;
    }
  }
  return false;
}

std::string RedactedText(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8)) {
      text.replace(at, secret.size(), "[secret]");
    }
  }
  return text;
}

Value Redacted(const Value& v, const std::vector<std::string>& secrets) {
  if (v.is_string()) return RedactedText(v.as_string(), secrets);
  if (v.is_array()) {
    Value::Array items;
    items.reserve(v.size());
    for (const Value& item : v.as_array()) items.push_back(Redacted(item, secrets));
    return Value::MakeArray(std::move(items));
  }
  if (v.is_object()) {
    Value out = Value::MakeObject(v.size());
    for (const auto& m : v.members()) out.set(RedactedText(m.key, secrets), Redacted(m.value, secrets));
    return out;
  }
  return v;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

Value SecretFunction(std::shared_ptr<std::vector<std::string>> used,
                     const std::function<std::optional<std::string>(std::string_view)>& source) {
  expr::HostFunction lookup;
  lookup.signature = "<s:s>";
  lookup.fn = [used = std::move(used), source](const std::vector<Value>& args) -> Result<Value> {
    const std::string name = args.empty() || !args[0].is_string() ? "" : args[0].as_string();
    std::optional<std::string> value = source ? source(name) : std::nullopt;
    if (!value) return NotFoundError("secret '" + name + "' is not set");
    used->push_back(*value);
    return Value(*value);
  };
  return expr::MakeHostFunction(std::move(lookup));
}

Status CheckGranted(const dsl::ActionSpec& spec, const dsl::Workflow& wf) {
  const uint32_t missing = spec.needs & ~wf.permissions.Granted();
  if (missing == 0) return Status::Ok();
  return PermissionDeniedError("action '" + spec.name + "' needs the '" + dsl::NeedNames(missing) +
                               "' permission, which workflow '" + wf.name + "' does not grant");
}

Status PrepareNamed(const dsl::NamedAction& named, const Value& inputs, const Value& task_settings,
                    const std::function<std::optional<std::string>(std::string_view)>& secrets,
                    const expr::EvalOptions& eval, NamedCall& out, std::vector<std::string>& secret_values) {
  Value bindings = Value::MakeObject();
  bindings.set("input", inputs);
  std::shared_ptr<std::vector<std::string>> used;
  if (named.uses_secrets) {
    used = std::make_shared<std::vector<std::string>>();
    bindings.set("secret", SecretFunction(used, secrets));
  }
  const dsl::Scope scope{Value::MakeObject(), bindings};
  Result<Value> impl_inputs = named.inputs.Evaluate(scope, eval);
  Result<Value> impl_settings = impl_inputs.ok() ? named.settings.Evaluate(scope, eval) : Result<Value>(Value());
  if (used) secret_values.insert(secret_values.end(), used->begin(), used->end());
  WEFT_RETURN_IF_ERROR(impl_inputs.status());
  WEFT_RETURN_IF_ERROR(impl_settings.status());
  out.inputs = impl_inputs->is_undefined() ? Value::MakeObject() : *impl_inputs;
  // A new object: the evaluated settings may be the workflow's own literal.
  out.settings = Value::MakeObject();
  const Value* parts[] = {&*impl_settings, &task_settings};
  for (const Value* part : parts) {
    if (!part->is_object()) continue;
    for (const auto& m : part->members()) out.settings.set(m.key, m.value);
  }
  if (named.implementation_spec != nullptr && named.implementation_spec->input_schema) {
    Value checked = secret_values.empty() ? out.inputs : Redacted(out.inputs, secret_values);
    WEFT_RETURN_IF_ERROR(named.implementation_spec->input_schema->Validate(
        checked, "inputs that action '" + named.spec.name + "' gives '" + named.implementation + "'"));
  }
  return Status::Ok();
}

Status CheckOutcome(const dsl::ActionSpec* spec, const dsl::NamedAction* named, const ActionResult& result) {
  if (!result.ok()) return result.status();
  if (named != nullptr && named->implementation_spec != nullptr && named->implementation_spec->output_schema) {
    WEFT_RETURN_IF_ERROR(named->implementation_spec->output_schema->Validate(
        result.output(), "output of '" + named->implementation + "' for action '" + named->spec.name + "'"));
  }
  if (spec != nullptr && spec->output_schema) {
    return spec->output_schema->Validate(result.output(), "output of action '" + spec->name + "'");
  }
  return Status::Ok();
}

std::optional<Status> ApprovalOutcome(const RunState& run, const std::string& approval_key, const std::string& action) {
  auto it = run.journal.find(approval_key);
  if (it == run.journal.end()) return std::nullopt;
  const JournalEntry& j = it->second;
  if (j.status == StepStatus::kFailed) {
    if (j.seq <= run.record.retry_from_seq) return std::nullopt;
    return Status(CodeFromName(j.error_code), j.error);
  }
  if (j.status != StepStatus::kCompleted) return std::nullopt;
  if (j.output.get("approved").is_bool() && j.output.get("approved").as_bool()) return Status::Ok();
  if (j.seq <= run.record.retry_from_seq) return std::nullopt;
  std::string why = "action '" + action + "' was not approved";
  if (Value by = j.output.get("by"); by.is_string()) why += " by " + by.as_string();
  if (Value c = j.output.get("comment"); c.is_string() && !c.as_string().empty()) why += ": " + c.as_string();
  return PermissionDeniedError(why);
}

Suspension ApprovalRequest(const std::string& action, const std::string& description, const Value& inputs) {
  Value data = Value::MakeObject();
  data.set("action", action);
  if (!description.empty()) data.set("description", description);
  data.set("inputs", inputs);
  Suspension s{"approval", data, 0};
  s.sub_step = "approval";
  s.action = "approval";
  return s;
}

asio::awaitable<ActionResult> ExecuteAction(const Action* action, std::shared_ptr<ActionContext> ctx) {
  co_return co_await action->Execute(*ctx);
}

}  // namespace weft::engine::internal
